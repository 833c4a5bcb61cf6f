#pragma once

// HTTPRoutes attached to a Service port, as Envoy v3 routes: matches (path,
// method, headers, query parameters, hostnames), filters (header modifiers,
// URL rewrites, redirects, mirrors), weighted backends with their own header
// filters, retries, timeouts and weft's fault annotations, ordered by the
// Gateway API's precedence rules.

#include <vector>

#include "controlplane/model/objects.h"
#include "envoy/config/route/v3/route.pb.h"

namespace weft::control {

// Whether `parent` (of `route`) attaches the route to `port` of `svc`: the
// Service by namespace and name, then the port by number or by name
// (sectionName); neither given: every port.
bool attachesTo(const ParentRef& parent, const HttpRoute& route, const Service& svc,
                const ServicePort& port);

// The routes the HTTPRoutes of `config` give `port` of `svc`, most specific
// first (the Gateway API's order: hostname, then Exact path, RegularExpression
// path, longest PathPrefix, method, most header matches, most query
// parameter matches; ties by the oldest route, then namespace/name, then rule
// order). Without the Service's own catch-all, which the caller appends.
std::vector<envoy::config::route::v3::Route> httpRouteRoutes(const ConfigSet& config,
                                                             const Service& svc,
                                                             const ServicePort& port);

}  // namespace weft::control
