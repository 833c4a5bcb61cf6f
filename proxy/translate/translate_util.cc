#include "proxy/translate/translate_util.h"

#include <google/protobuf/util/time_util.h>

namespace weft::translate {

uint64_t durationMs(const google::protobuf::Duration& d) {
  return static_cast<uint64_t>(google::protobuf::util::TimeUtil::DurationToMilliseconds(d));
}

std::string typeName(const google::protobuf::Any& any) {
  const std::string& url = any.type_url();
  size_t slash = url.rfind('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

bool addressFrom(const envoy::config::core::v3::Address& proto, const std::string& path,
                 network::Address* out, common::ErrorList& errors) {
  if (!proto.has_socket_address()) {
    errors.add(path, "socket_address is required");
    return false;
  }
  const auto& sa = proto.socket_address();
  if (sa.protocol() != envoy::config::core::v3::SocketAddress::TCP) {
    errors.add(path + ".socket_address.protocol", "only TCP is supported");
    return false;
  }
  if (sa.port_value() > 65535) {
    errors.add(path + ".socket_address.port_value", "port out of range");
    return false;
  }
  auto address = network::Address::fromIpPort(sa.address(), static_cast<uint16_t>(sa.port_value()));
  if (!address) {
    errors.add(path + ".socket_address.address",
               "'" + sa.address() +
                   "' is not an IP address (a name needs a STRICT_DNS or LOGICAL_DNS cluster)");
    return false;
  }
  *out = *address;
  return true;
}

bool translateHttp2Options(const envoy::config::core::v3::Http2ProtocolOptions& proto,
                           const std::string& path, bool* allow_connect,
                           common::ErrorList& errors) {
  bool ok = true;
  for (const char* unsupported : {"hpack_table_size", "max_concurrent_streams",
                                  "initial_stream_window_size", "initial_connection_window_size"}) {
    const auto* field = proto.GetDescriptor()->FindFieldByName(unsupported);
    if (proto.GetReflection()->HasField(proto, field)) {
      errors.add(path + "." + unsupported, "not supported by weft (its HTTP/2 settings are fixed)");
      ok = false;
    }
  }
  *allow_connect = proto.allow_connect();
  return ok;
}

}  // namespace weft::translate
