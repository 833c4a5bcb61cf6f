#include "controlplane/xds/access_log_translation.h"

#include <utility>

#include "controlplane/xds/resource_builders.h"

#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/access_loggers/stream/v3/stream.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace weft::control {
namespace {

namespace listener_v3 = envoy::config::listener::v3;
namespace hcm_v3 = envoy::extensions::filters::network::http_connection_manager::v3;
namespace tcp_v3 = envoy::extensions::filters::network::tcp_proxy::v3;
namespace stream_v3 = envoy::extensions::access_loggers::stream::v3;

// The JSON line: Istio's default JSON keys, plus the caller's identity and
// the W3C trace it belongs to. Missing values are null.
constexpr std::pair<const char*, const char*> kDefaultJsonFields[] = {
    {"start_time", "%START_TIME%"},
    {"method", "%REQ(:METHOD)%"},
    {"path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"},
    {"protocol", "%PROTOCOL%"},
    {"response_code", "%RESPONSE_CODE%"},
    {"response_flags", "%RESPONSE_FLAGS%"},
    {"bytes_received", "%BYTES_RECEIVED%"},
    {"bytes_sent", "%BYTES_SENT%"},
    {"duration", "%DURATION%"},
    {"x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"},
    {"user_agent", "%REQ(USER-AGENT)%"},
    {"request_id", "%REQ(X-REQUEST-ID)%"},
    {"authority", "%REQ(:AUTHORITY)%"},
    {"traceparent", "%REQ(TRACEPARENT)%"},
    {"upstream_host", "%UPSTREAM_HOST%"},
    {"upstream_cluster", "%UPSTREAM_CLUSTER%"},
    {"downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"},
    {"downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%"},
    {"downstream_peer_uri_san", "%DOWNSTREAM_PEER_URI_SAN%"},
    {"route_name", "%ROUTE_NAME%"},
};

envoy::config::accesslog::v3::AccessLog stdoutLog(bool json) {
  envoy::config::accesslog::v3::AccessLog log;
  log.set_name("envoy.access_loggers.stdout");
  stream_v3::StdoutAccessLog out;
  if (json) {
    auto& fields = *out.mutable_log_format()->mutable_json_format()->mutable_fields();
    for (const auto& [key, format] : kDefaultJsonFields) fields[key].set_string_value(format);
  }
  packDeterministic(out, log.mutable_typed_config());  // a Struct: map order
  return log;
}

}  // namespace

void addAccessLogs(const std::string& mode, ProxyResources& out) {
  if (mode != "Text" && mode != "JSON") return;
  envoy::config::accesslog::v3::AccessLog log = stdoutLog(mode == "JSON");
  editNetworkFilters(out, [&](listener_v3::Filter* filter) {
    hcm_v3::HttpConnectionManager hcm;
    tcp_v3::TcpProxy tcp;
    if (filter->typed_config().UnpackTo(&hcm)) {  // UnpackTo checks the type
      *hcm.add_access_log() = log;
      packDeterministic(hcm, filter->mutable_typed_config());
      return true;
    }
    if (filter->typed_config().UnpackTo(&tcp)) {
      *tcp.add_access_log() = log;
      packDeterministic(tcp, filter->mutable_typed_config());
      return true;
    }
    return false;
  });
}

}  // namespace weft::control
