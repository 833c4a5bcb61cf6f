#pragma once

// Envoy's RBAC (envoy.config.rbac.v3) -> weft's compiled RBAC engine.

#include <string>

#include "common/base/error_list.h"
#include "envoy/config/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"
#include "proxy/rbac/rbac_engine.h"

namespace weft::translate {

bool rbacFrom(const envoy::config::rbac::v3::RBAC& proto, const std::string& path,
              rbac::RbacEnginePtr* out, common::ErrorList& errors);

}  // namespace weft::translate
