#pragma once

// gRPC's own xDS clients (xds:///HOST): an API listener per requested target
// naming a Service, routed through the same "outbound" route configuration.

#include <set>
#include <string>

#include "controlplane/model/objects.h"
#include "controlplane/xds/resources.h"
#include "envoy/config/route/v3/route.pb.h"

namespace weft::control {

// `api_listener_names`: LDS names a client asked for that are not weft's own
// listeners ("echo", "echo.default:8080", ...).
void addApiListeners(const ConfigSet& config, const std::set<std::string>& api_listener_names,
                     ProxyResources& out);

// Rewrites header matchers to the fields every gRPC xDS client reads:
// gRPC 1.51 (Debian 12's) refuses HeaderMatcher.string_match ("Invalid route
// header matcher specified") and reads exact_match / safe_regex_match /
// prefix_match / suffix_match / contains_match, which Envoy and weft-proxy
// read too.
void useGrpcClientHeaderMatchers(envoy::config::route::v3::RouteConfiguration& routes);

}  // namespace weft::control
