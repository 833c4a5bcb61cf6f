#pragma once

// RouteConfiguration -> config::RouteTable: virtual hosts, routes, weighted
// clusters, retry policies, header mutations, per-route fault settings.

#include <google/protobuf/any.pb.h>

#include <functional>
#include <memory>
#include <string>

#include "common/base/error_list.h"
#include "envoy/config/route/v3/route.pb.h"
#include "proxy/config/route_table.h"

namespace weft::translate {

// Resolves an HttpConnectionManager's `rds.route_config_name` (nullptr: not
// received yet). Without a resolver, `rds` is an error (static bootstrap).
using RouteResolver =
    std::function<std::shared_ptr<const config::RouteTable>(const std::string& name)>;

std::shared_ptr<const config::RouteTable> translateRouteConfiguration(
    const envoy::config::route::v3::RouteConfiguration& proto, const std::string& path,
    common::ErrorList& errors);

// envoy.filters.http.fault's HTTPFault (the listener's filter or a route's
// typed_per_filter_config).
bool faultFrom(const google::protobuf::Any& any, const std::string& path, config::FaultConfig* out,
               common::ErrorList& errors);

}  // namespace weft::translate
