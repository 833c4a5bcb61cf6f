#pragma once

// Listener -> config::ListenerConfig: filter chains and their matches,
// listener filters, HTTP connection managers (codec, timeouts, filters,
// routes inline or by RDS), TCP proxies, downstream TLS.

#include <string>
#include <vector>

#include "common/base/error_list.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "proxy/config/snapshot.h"
#include "proxy/translate/runtime_factories.h"
#include "proxy/translate/translate_route.h"
#include "proxy/translate/translate_tls.h"

namespace weft::translate {

bool translateListener(const envoy::config::listener::v3::Listener& proto, const std::string& path,
                       config::ListenerConfig* out, common::ErrorList& errors,
                       const RouteResolver* routes = nullptr,
                       const SecretResolver* secrets = nullptr,
                       const RuntimeFactories* runtime = nullptr);

// The route names a listener's HTTP connection managers ask RDS for.
std::vector<std::string> rdsNames(const envoy::config::listener::v3::Listener& proto);

}  // namespace weft::translate
