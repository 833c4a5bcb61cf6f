#include "controlplane/xds/inbound_translation.h"

#include <google/protobuf/util/time_util.h>

#include "controlplane/xds/authorization.h"
#include "controlplane/xds/interception_translation.h"
#include "controlplane/xds/mtls.h"
#include "controlplane/xds/resource_builders.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/rbac/v3/rbac.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace weft::control {

namespace cluster_v3 = envoy::config::cluster::v3;
namespace listener_v3 = envoy::config::listener::v3;
namespace route_v3 = envoy::config::route::v3;
using google::protobuf::util::TimeUtil;

void addInbound(const ConfigSet& config, const ProxyIdentity& proxy, ProxyResources& out) {
  for (const auto& slice : config.endpoint_slices) {
    if (slice.meta.ns != proxy.ns) continue;
    const Service* svc = config.findService(slice.meta.ns, slice.service_name);
    if (svc == nullptr) continue;
    for (const auto& ep : slice.endpoints) {
      if (ep.pod_name.empty() || ep.pod_name != proxy.pod || ep.addresses.empty()) continue;
      for (const auto& port : svc->ports) {
        uint16_t endpoint_port = endpointPort(slice, port);
        std::string name = "inbound|" + std::to_string(endpoint_port);
        if (out.by_type[kLds].count(name)) continue;
        std::string cluster_name = name + "||";
        cluster_v3::Cluster app;
        app.set_name(cluster_name);
        app.set_type(cluster_v3::Cluster::STATIC);
        *app.mutable_connect_timeout() = TimeUtil::MillisecondsToDuration(1000);
        auto* lbe = app.mutable_load_assignment()->add_endpoints()->add_lb_endpoints();
        app.mutable_load_assignment()->set_cluster_name(cluster_name);
        setAddress(lbe->mutable_endpoint()->mutable_address(), proxy.app_ip, endpoint_port);
        if (isHttp2Port(port)) setHttp2Upstream(&app);
        add(out, kCds, cluster_name, app);

        listener_v3::Listener inbound;
        inbound.set_name(name);
        inbound.set_traffic_direction(
            envoy::config::core::v3::INBOUND);  // the "destination" reporter
        if (proxy.interception) {
          // The app listens on this port itself; the proxy's listener is virtual.
          makeVirtual(&inbound, ep.addresses[0], endpoint_port);
        } else {
          setAddress(inbound.mutable_address(), ep.addresses[0], endpoint_port);
        }
        envoy::config::rbac::v3::RBAC authz;
        bool authorized = authorizationFor(config, *svc, &authz);
        for (const auto& policy : config.authorization_policies) {
          if (policy.meta.ns == svc->meta.ns && policy.service == svc->meta.name) {
            out.applied["AuthorizationPolicy " + policy.meta.ns + "/" + policy.meta.name] = kLds;
          }
        }
        auto* chain = inbound.add_filter_chains();
        PortProtocol protocol = portProtocol(port);
        if (protocol == PortProtocol::kDetect) {
          // Plaintext callers by their first bytes; mTLS callers (after
          // secureInboundListener) by the ALPN their sidecar's cluster
          // offers: h2 from its HTTP cluster, the peer exchange from its TCP one.
          addProtocolDetection(&inbound, false, config.mesh.protocol_detection_timeout_ms);
          matchHttpPlaintext(chain);
        }
        auto* f = chain->add_filters();
        if (protocol != PortProtocol::kTcp) {
          f->set_name("envoy.filters.network.http_connection_manager");
          auto hcm = httpConnectionManager(name, name, Downstream::kPeer);
          if (authorized) addHttpRbac(authz, &hcm);
          f->mutable_typed_config()->PackFrom(hcm);
          route_v3::RouteConfiguration routes;
          routes.set_name(name);
          auto* vh = routes.add_virtual_hosts();
          vh->set_name(name);
          vh->add_domains("*");
          auto* route = vh->add_routes();
          route->mutable_match()->set_prefix("/");
          route->mutable_route()->set_cluster(cluster_name);
          *route->mutable_route()->mutable_timeout() = TimeUtil::MillisecondsToDuration(0);
          add(out, kRds, name, routes);
        }
        if (protocol != PortProtocol::kHttp) {
          auto* tcp_chain = protocol == PortProtocol::kTcp ? chain : inbound.add_filter_chains();
          auto* tcp_filter = protocol == PortProtocol::kTcp ? f : tcp_chain->add_filters();
          tcp_filter->set_name("envoy.filters.network.tcp_proxy");
          envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp;
          tcp.set_stat_prefix(name);
          tcp.set_cluster(cluster_name);
          tcp_filter->mutable_typed_config()->PackFrom(tcp);
          if (authorized) addNetworkRbac(authz, name, tcp_chain);
        }
        secureInboundListener(config, proxy.ns, &inbound);
        add(out, kLds, name, inbound);
      }
    }
  }
}

}  // namespace weft::control
