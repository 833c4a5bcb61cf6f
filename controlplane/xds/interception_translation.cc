#include "controlplane/xds/interception_translation.h"

#include <google/protobuf/util/time_util.h>

#include "controlplane/xds/mtls.h"
#include "controlplane/xds/outbound_translation.h"
#include "controlplane/xds/resource_builders.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace weft::control {

namespace cluster_v3 = envoy::config::cluster::v3;
namespace listener_v3 = envoy::config::listener::v3;
namespace route_v3 = envoy::config::route::v3;
using google::protobuf::util::TimeUtil;

namespace {

constexpr char kOutboundPassthrough[] = "PassthroughCluster";
constexpr char kInboundPassthrough[] = "InboundPassthroughCluster";

cluster_v3::Cluster originalDestinationCluster(const std::string& name) {
  cluster_v3::Cluster cluster;
  cluster.set_name(name);
  cluster.set_type(cluster_v3::Cluster::ORIGINAL_DST);
  cluster.set_lb_policy(cluster_v3::Cluster::CLUSTER_PROVIDED);
  *cluster.mutable_connect_timeout() = TimeUtil::MillisecondsToDuration(1000);
  return cluster;
}

void addTcpProxy(listener_v3::FilterChain* chain, const std::string& stat_prefix,
                 const std::string& cluster) {
  auto* filter = chain->add_filters();
  filter->set_name("envoy.filters.network.tcp_proxy");
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp;
  tcp.set_stat_prefix(stat_prefix);
  tcp.set_cluster(cluster);
  filter->mutable_typed_config()->PackFrom(tcp);
}

// Where redirected connections land (0.0.0.0:PORT): each is handed to the
// listener for its original destination; what matches none passes through.
listener_v3::Listener redirectListener(const std::string& name, uint16_t port,
                                       const std::string& passthrough,
                                       envoy::config::core::v3::TrafficDirection direction) {
  listener_v3::Listener listener;
  listener.set_name(name);
  listener.set_traffic_direction(direction);
  setAddress(listener.mutable_address(), "0.0.0.0", port);
  listener.mutable_use_original_dst()->set_value(true);
  addTcpProxy(listener.add_filter_chains(), name, passthrough);
  return listener;
}

}  // namespace

// A listener that is never bound: found by a redirected connection's
// original destination.
void makeVirtual(listener_v3::Listener* listener, const std::string& ip, uint16_t port) {
  setAddress(listener->mutable_address(), ip, port);
  listener->mutable_bind_to_port()->set_value(false);
}

void addVirtualOutboundListener(const ConfigSet& config, const std::string& ip, uint16_t port,
                                const ServicePort& service_port, route_v3::VirtualHost routes,
                                const std::string& cluster, const std::string& detected_tcp_cluster,
                                ProxyResources& out) {
  std::string name = "outbound|" + ip + "_" + std::to_string(port);
  listener_v3::Listener listener;
  listener.set_name(name);
  listener.set_traffic_direction(envoy::config::core::v3::OUTBOUND);  // Istio's "source" reporter
  makeVirtual(&listener, ip, port);
  auto* chain = listener.add_filter_chains();
  bool detect = portProtocol(service_port) == PortProtocol::kDetect;
  if (detect) {
    // HTTP by its first bytes, else (or nothing in time) TCP.
    addProtocolDetection(&listener, false, config.mesh.protocol_detection_timeout_ms);
    matchHttpPlaintext(chain);
  }
  if (isHttpPort(service_port)) {
    auto* filter = chain->add_filters();
    filter->set_name("envoy.filters.network.http_connection_manager");
    filter->mutable_typed_config()->PackFrom(httpConnectionManager(name, name, Downstream::kApp));
    route_v3::RouteConfiguration route_config;
    route_config.set_name(name);
    auto* vh = route_config.add_virtual_hosts();
    *vh = std::move(routes);
    vh->clear_domains();
    vh->add_domains("*");
    add(out, kRds, name, route_config);
  } else {
    addTcpProxy(chain, name, cluster);
  }
  if (detect) addTcpProxy(listener.add_filter_chains(), name, detected_tcp_cluster);
  add(out, kLds, name, listener);
}

// The app's connections to a Service's cluster IP and port reach that
// Service whatever their Host header says (Linkerd's model, and Istio's for
// TCP): one listener per cluster IP and port, its routes the Service's own.
void addServiceListeners(const ConfigSet& config, const ProxyIdentity& proxy, ProxyResources& out) {
  for (const auto& svc : config.services) {
    if (!egressAllowed(config, proxy, svc)) continue;
    // Headless: its members' pod IPs have listeners (addHeadlessMembers).
    if (svc.cluster_ip.empty() || svc.cluster_ip == "None") continue;
    for (const auto& port : svc.ports) {
      addVirtualOutboundListener(
          config, svc.cluster_ip, port.port, port, serviceVirtualHost(config, svc, port, true),
          outboundClusterName(svc, port.port), outboundTcpClusterName(svc, port.port), out);
    }
  }
  add(out, kCds, kOutboundPassthrough, originalDestinationCluster(kOutboundPassthrough));
  add(out, kLds, "outbound",
      redirectListener("outbound", proxy.outbound_port, kOutboundPassthrough,
                       envoy::config::core::v3::OUTBOUND));
}

void addInboundPassthrough(const ConfigSet& config, const ProxyIdentity& proxy,
                           ProxyResources& out) {
  // Inbound to ports no Service names: passed to the app, under the
  // namespace's mTLS mode like any other (STRICT: mTLS callers only).
  listener_v3::Listener inbound = redirectListener(
      "inbound", proxy.inbound_port, kInboundPassthrough, envoy::config::core::v3::INBOUND);
  secureInboundListener(config, proxy.ns, &inbound);
  add(out, kLds, "inbound", inbound);
  add(out, kCds, kInboundPassthrough, originalDestinationCluster(kInboundPassthrough));
}

}  // namespace weft::control
