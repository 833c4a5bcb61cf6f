#pragma once

// /config_dump: the bootstrap, and with xDS every resource type's version in
// service, its last rejected version and error, and the resources (secrets
// by name and kind only: a dump never carries private keys).

#include <string>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "proxy/xds/xds_client.h"

namespace weft::admin {

// `xds` is null for a static bootstrap.
std::string configDump(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                       const xds::XdsClient* xds);

}  // namespace weft::admin
