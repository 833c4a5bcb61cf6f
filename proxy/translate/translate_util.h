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

// Http2ProtocolOptions (a listener's or a cluster's): allow_connect is read;
// the rest weft's codec does not take from configuration, so each is an
// error naming it rather than a setting that silently does nothing.
bool translateHttp2Options(const envoy::config::core::v3::Http2ProtocolOptions& proto,
                           const std::string& path, bool* allow_connect, common::ErrorList& errors);

}  // namespace weft::translate
