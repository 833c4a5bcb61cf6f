#pragma once

// envoy.filters.http.rbac: who may ask for what, by the peer's mTLS identity
// (AuthorizationPolicy). A denial is answered 403 by the stream.

#include "common/http/header_map.h"
#include "common/network/transport_socket.h"
#include "proxy/rbac/rbac_engine.h"
#include "proxy/stats/stats.h"

namespace weft::http {

// True when `engine` allows the request; counts the decision in `stats`.
bool rbacAllows(const rbac::RbacEngine& engine, const HeaderMap& headers,
                const network::TransportInfo* tls, const stats::ListenerStats& stats);

}  // namespace weft::http
