#include "controlplane/xds/headless_translation.h"

#include "controlplane/xds/interception_translation.h"
#include "controlplane/xds/outbound_translation.h"
#include "controlplane/xds/resource_builders.h"
#include "envoy/config/cluster/v3/cluster.pb.h"

namespace weft::control {

namespace cluster_v3 = envoy::config::cluster::v3;
namespace route_v3 = envoy::config::route::v3;

namespace {

// The Service port's cluster, narrowed to one pod: STATIC, so a member's
// traffic never goes to another member.
cluster_v3::Cluster memberCluster(const ConfigSet& config, const Service& svc,
                                  const ServicePort& port, const std::string& name,
                                  const std::string& ip, uint16_t endpoint_port,
                                  bool tcp_of_detected) {
  cluster_v3::Cluster cluster = outboundCluster(config, svc, port, tcp_of_detected);
  cluster.set_name(name);
  cluster.set_type(cluster_v3::Cluster::STATIC);
  cluster.clear_eds_cluster_config();
  auto* assignment = cluster.mutable_load_assignment();
  assignment->set_cluster_name(name);
  auto* locality = assignment->add_endpoints();
  setAddress(locality->add_lb_endpoints()->mutable_endpoint()->mutable_address(), ip,
             endpoint_port);
  return cluster;
}

// Every request to the member goes to it: the Service's HTTPRoutes pick
// among members, and a caller that named one has already picked.
route_v3::VirtualHost memberVirtualHost(const std::string& name, const std::string& cluster) {
  route_v3::VirtualHost vh;
  vh.set_name(name);
  auto* route = vh.add_routes();
  route->set_name("default");
  route->mutable_match()->set_prefix("/");
  route->mutable_route()->set_cluster(cluster);
  return vh;
}

void addMemberDomains(route_v3::VirtualHost* vh, const Service& svc, const std::string& hostname,
                      uint16_t service_port, uint16_t endpoint_port, bool bare) {
  std::string base = hostname + "." + svc.meta.name + "." + svc.meta.ns;
  for (const std::string& host : {base, base + ".svc", base + ".svc.cluster.local"}) {
    if (bare) vh->add_domains(host);
    vh->add_domains(host + ":" + std::to_string(service_port));
    if (endpoint_port != service_port) vh->add_domains(host + ":" + std::to_string(endpoint_port));
  }
}

}  // namespace

std::string memberClusterName(const Service& svc, uint16_t port, const std::string& ip) {
  return "outbound|" + std::to_string(port) + "|" + ip + "|" + fqdn(svc);
}

void addHeadlessMembers(const ConfigSet& config, const ProxyIdentity& proxy,
                        route_v3::RouteConfiguration* outbound_routes, ProxyResources& out) {
  for (const auto& svc : config.services) {
    if (svc.cluster_ip != "None" || !egressAllowed(config, proxy, svc)) continue;
    for (const auto& slice : config.endpoint_slices) {
      if (slice.meta.ns != svc.meta.ns || slice.service_name != svc.meta.name) continue;
      for (const auto& ep : slice.endpoints) {
        if (!ep.ready || (ep.pod_name == proxy.pod && svc.meta.ns == proxy.ns)) continue;
        for (const auto& ip : ep.addresses) {
          bool first_http = true;
          for (const auto& port : svc.ports) {
            uint16_t endpoint_port = endpointPort(slice, port);
            std::string cluster = memberClusterName(svc, port.port, ip);
            // Two headless Services naming one pod and port: the first has it.
            if (out.by_type[kCds].count(cluster)) continue;
            add(out, kCds, cluster,
                memberCluster(config, svc, port, cluster, ip, endpoint_port, false));
            std::string tcp_cluster = memberClusterName(svc, port.port, "tcp-" + ip);
            if (portProtocol(port) == PortProtocol::kDetect) {
              add(out, kCds, tcp_cluster,
                  memberCluster(config, svc, port, tcp_cluster, ip, endpoint_port, true));
            }
            std::string vh_name = (ep.hostname.empty() ? ip : ep.hostname) + "." + fqdn(svc) + ":" +
                                  std::to_string(port.port);
            route_v3::VirtualHost vh = memberVirtualHost(vh_name, cluster);
            if (isHttpPort(port) && !ep.hostname.empty()) {
              auto* named = outbound_routes->add_virtual_hosts();
              *named = vh;
              addMemberDomains(named, svc, ep.hostname, port.port, endpoint_port, first_http);
              first_http = false;
            }
            if (proxy.interception) {
              addVirtualOutboundListener(config, ip, endpoint_port, port, std::move(vh), cluster,
                                         tcp_cluster, out);
            }
          }
        }
      }
    }
  }
}

}  // namespace weft::control
