#include "controlplane/xds/resource_builders.h"

#include <google/protobuf/util/time_util.h>

#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace weft::control {

namespace core_v3 = envoy::config::core::v3;
namespace hcm_v3 = envoy::extensions::filters::network::http_connection_manager::v3;
using google::protobuf::util::TimeUtil;

std::string fqdn(const Service& svc) {
  return svc.meta.name + "." + svc.meta.ns + ".svc.cluster.local";
}

namespace {
PortProtocol protocolNamed(const std::string& protocol) {
  for (const char* http :
       {"http", "http2", "grpc", "grpc-web", "kubernetes.io/h2c", "kubernetes.io/ws"}) {
    if (protocol == http) return PortProtocol::kHttp;
  }
  for (const char* tcp :
       {"tcp", "tls", "https", "mongo", "mysql", "postgresql", "redis", "kubernetes.io/wss"}) {
    if (protocol == tcp) return PortProtocol::kTcp;
  }
  return PortProtocol::kDetect;
}
}  // namespace

PortProtocol portProtocol(const ServicePort& port) {
  if (!port.app_protocol.empty()) return protocolNamed(port.app_protocol);
  // Istio's naming convention: <protocol>[-<suffix>].
  return protocolNamed(port.name.substr(0, port.name.find('-')));
}

bool isHttpPort(const ServicePort& port) { return portProtocol(port) != PortProtocol::kTcp; }

uint16_t endpointPort(const EndpointSlice& slice, const ServicePort& port) {
  for (const auto& p : slice.ports) {
    if (p.name == port.name || slice.ports.size() == 1) return p.port;
  }
  return port.target_port;
}

std::string outboundTcpClusterName(const Service& svc, uint16_t port) {
  return "outbound|" + std::to_string(port) + "|tcp|" + fqdn(svc);
}

void matchHttpPlaintext(envoy::config::listener::v3::FilterChain* chain) {
  auto* match = chain->mutable_filter_chain_match();
  for (const char* protocol : {"http/1.1", "http/1.0", "h2c"}) {
    match->add_application_protocols(protocol);
  }
}

void matchHttpAlpn(envoy::config::listener::v3::FilterChain* chain) {
  auto* match = chain->mutable_filter_chain_match();
  match->clear_application_protocols();
  for (const char* protocol : {"h2", "http/1.1"}) match->add_application_protocols(protocol);
}

void addProtocolDetection(envoy::config::listener::v3::Listener* listener, bool tls,
                          uint64_t timeout_ms) {
  auto has = [&](const std::string& name) {
    for (const auto& filter : listener->listener_filters()) {
      if (filter.name() == name) return true;
    }
    return false;
  };
  if (tls && !has("envoy.filters.listener.tls_inspector")) {
    listener->add_listener_filters()->set_name("envoy.filters.listener.tls_inspector");
  }
  if (!has("envoy.filters.listener.http_inspector")) {
    listener->add_listener_filters()->set_name("envoy.filters.listener.http_inspector");
  }
  *listener->mutable_listener_filters_timeout() = TimeUtil::MillisecondsToDuration(timeout_ms);
}

bool isHttp2Port(const ServicePort& port) {
  const std::string& p = port.app_protocol;
  return p == "http2" || p == "grpc" || p == "kubernetes.io/h2c" || port.name == "grpc" ||
         port.name.rfind("grpc-", 0) == 0 || port.name == "http2";
}

void setAdsSource(core_v3::ConfigSource* source) {
  source->mutable_ads();
  source->set_resource_api_version(core_v3::V3);
}

void setAddress(core_v3::Address* address, const std::string& ip, uint16_t port) {
  address->mutable_socket_address()->set_address(ip);
  address->mutable_socket_address()->set_port_value(port);
}

// Slowloris bound for every listener a sidecar serves: headers must be
// complete 10 s after their first byte (HAProxy's usual http-request timeout).
constexpr int64_t kRequestHeadersTimeoutMs = 10000;

hcm_v3::HttpConnectionManager httpConnectionManager(const std::string& stat_prefix,
                                                    const std::string& rds_name,
                                                    Downstream downstream) {
  hcm_v3::HttpConnectionManager hcm;
  hcm.set_stat_prefix(stat_prefix);
  hcm.set_codec_type(hcm_v3::HttpConnectionManager::AUTO);
  if (downstream != Downstream::kGrpcClient) {
    *hcm.mutable_request_headers_timeout() =
        TimeUtil::MillisecondsToDuration(kRequestHeadersTimeoutMs);
    // The mesh edge: x-envoy-* / x-weft-* from here are not the mesh's.
    hcm.mutable_use_remote_address()->set_value(true);
    // The app's own address (loopback) says nothing to the callee.
    hcm.set_skip_xff_append(downstream == Downstream::kApp);
    // WebSocket end to end: an app's HTTP/1.1 Upgrade is tunnelled, and
    // crosses the sidecar-to-sidecar HTTP/2 connection as an RFC 8441
    // extended CONNECT (the meshed cluster's allow_connect), one stream of
    // the connection already there, under its mTLS, authorization and
    // telemetry, instead of a connection of its own.
    hcm.add_upgrade_configs()->set_upgrade_type("websocket");
    hcm.mutable_http2_protocol_options()->set_allow_connect(true);
  }
  auto* rds = hcm.mutable_rds();
  rds->set_route_config_name(rds_name);
  setAdsSource(rds->mutable_config_source());
  auto* router = hcm.add_http_filters();
  router->set_name("envoy.filters.http.router");
  router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
  return hcm;
}

void setHttp2Upstream(envoy::config::cluster::v3::Cluster* cluster) {
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
  options.mutable_explicit_http_config()->mutable_http2_protocol_options();
  (*cluster->mutable_typed_extension_protocol_options())
      ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
          .PackFrom(options);
}

void editNetworkFilters(ProxyResources& out,
                        const std::function<bool(envoy::config::listener::v3::Filter*)>& edit) {
  for (auto& [name, resource] : out.by_type[kLds]) {
    envoy::config::listener::v3::Listener listener;
    if (!resource.any.UnpackTo(&listener)) continue;
    bool changed = false;
    auto edit_chain = [&](envoy::config::listener::v3::FilterChain* chain) {
      for (auto& filter : *chain->mutable_filters()) changed |= edit(&filter);
    };
    for (auto& chain : *listener.mutable_filter_chains()) edit_chain(&chain);
    if (listener.has_default_filter_chain()) edit_chain(listener.mutable_default_filter_chain());
    if (changed) packDeterministic(listener, &resource.any);
  }
}

}  // namespace weft::control
