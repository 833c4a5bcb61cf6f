#pragma once

// HTTPRoutes and GRPCRoutes attached to a Service port, as Envoy v3 routes:
// matches (path, method, headers, query parameters, hostnames; a GRPCRoute's
// service/method as the path), filters (header modifiers, URL rewrites,
// redirects, mirrors), weighted backends with their own header filters,
// retries, timeouts and weft's fault annotations, ordered by the Gateway
// API's precedence rules.

#include <vector>

#include "controlplane/model/objects.h"
#include "envoy/config/route/v3/route.pb.h"

namespace weft::control {

// The routes the HTTPRoutes and GRPCRoutes of `config` give `port` of `svc`,
// most specific first (the Gateway API's order: hostname, then Exact path,
// RegularExpression path, longest PathPrefix, method, most header matches,
// most query parameter matches; for a GRPCRoute hostname, then the longest
// service, the longest method, most header matches; ties by the oldest
// route, then namespace/name, then rule order). Without the Service's own
// catch-all, which the caller appends.
std::vector<envoy::config::route::v3::Route> httpRouteRoutes(const ConfigSet& config,
                                                             const Service& svc,
                                                             const ServicePort& port);

}  // namespace weft::control
