#pragma once

// Envoy's StringMatcher and HeaderMatcher -> proxy/matcher (routes and RBAC).

#include <string>

#include "common/base/error_list.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"
#include "proxy/matcher/matcher.h"

namespace weft::translate {

bool stringMatchFrom(const envoy::type::matcher::v3::StringMatcher& proto, const std::string& path,
                     matcher::StringMatch* out, common::ErrorList& errors);
bool headerMatchFrom(const envoy::config::route::v3::HeaderMatcher& proto, const std::string& path,
                     matcher::HeaderMatch* out, common::ErrorList& errors);

}  // namespace weft::translate
