#pragma once

// Helpers every translator shares.

#include <google/protobuf/any.pb.h>
#include <google/protobuf/duration.pb.h>

#include <cstdint>
#include <string>

#include "common/base/error_list.h"
#include "common/network/address.h"
#include "envoy/config/core/v3/base.pb.h"

namespace weft::translate {

uint64_t durationMs(const google::protobuf::Duration& d);

// The message name an Any's type URL ends with.
std::string typeName(const google::protobuf::Any& any);

// A TCP socket address with an IP literal (DNS names are an error).
bool addressFrom(const envoy::config::core::v3::Address& proto, const std::string& path,
                 network::Address* out, common::ErrorList& errors);

}  // namespace weft::translate
