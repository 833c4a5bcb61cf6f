#include "controlplane/xds/outbound_translation.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "controlplane/xds/api_listener_translation.h"
#include "controlplane/xds/headless_translation.h"
#include "controlplane/xds/http_route_translation.h"
#include "controlplane/xds/load_balancing.h"
#include "controlplane/xds/mtls.h"
#include "controlplane/xds/resource_builders.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"

namespace weft::control {

namespace cluster_v3 = envoy::config::cluster::v3;
namespace core_v3 = envoy::config::core::v3;
namespace endpoint_v3 = envoy::config::endpoint::v3;
namespace listener_v3 = envoy::config::listener::v3;
namespace route_v3 = envoy::config::route::v3;
using google::protobuf::util::TimeUtil;

namespace {

// Istio's default for DNS-resolved destinations (MeshConfig dnsRefreshRate),
// and its choice of family for an IPv4 mesh; the answers' TTLs refresh sooner.
constexpr uint64_t kExternalDnsRefreshMs = 60000;
constexpr char kSystemCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

// An ExternalName Service: its name, resolved by the proxy (STRICT_DNS: every
// address it answers is a host), at the Service's port; TLS to it when its
// DestinationPolicy asks (verified against its DNS name), never the mesh's mTLS.
void externalNameCluster(const Service& svc, const ServicePort& port,
                         const DestinationPolicy* policy, cluster_v3::Cluster* c) {
  c->set_type(cluster_v3::Cluster::STRICT_DNS);
  c->set_dns_lookup_family(cluster_v3::Cluster::V4_ONLY);
  c->set_respect_dns_ttl(true);
  *c->mutable_dns_refresh_rate() = TimeUtil::MillisecondsToDuration(kExternalDnsRefreshMs);
  auto* assignment = c->mutable_load_assignment();
  assignment->set_cluster_name(c->name());
  setAddress(assignment->add_endpoints()->add_lb_endpoints()->mutable_endpoint()->mutable_address(),
             svc.external_name, port.port);
  if (policy == nullptr || !policy->tls) return;
  namespace tls_v3 = envoy::extensions::transport_sockets::tls::v3;
  tls_v3::UpstreamTlsContext context;
  context.set_sni(policy->tls->sni.empty() ? svc.external_name : policy->tls->sni);
  auto* validation = context.mutable_common_tls_context()->mutable_validation_context();
  validation->mutable_trusted_ca()->set_filename(
      policy->tls->ca_certificates.empty() ? kSystemCaBundle : policy->tls->ca_certificates);
  std::vector<std::string> names = policy->tls->subject_alt_names;
  if (names.empty()) names.push_back(svc.external_name);
  for (const auto& name : names) {
    auto* matcher = validation->add_match_typed_subject_alt_names();
    matcher->set_san_type(tls_v3::SubjectAltNameMatcher::DNS);
    matcher->mutable_matcher()->set_exact(name);
  }
  c->mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
  c->mutable_transport_socket()->mutable_typed_config()->PackFrom(context);
}

}  // namespace

cluster_v3::Cluster outboundCluster(const ConfigSet& config, const Service& svc,
                                    const ServicePort& port, bool tcp_of_detected) {
  cluster_v3::Cluster c;
  c.set_name(tcp_of_detected ? outboundTcpClusterName(svc, port.port)
                             : outboundClusterName(svc, port.port));
  const DestinationPolicy* policy = destinationPolicyFor(config, svc);
  if (!svc.external_name.empty()) {
    externalNameCluster(svc, port, policy, &c);
  } else {
    c.set_type(cluster_v3::Cluster::EDS);
    setAdsSource(c.mutable_eds_cluster_config()->mutable_eds_config());
    if (tcp_of_detected) {
      c.mutable_eds_cluster_config()->set_service_name(outboundClusterName(svc, port.port));
    }
  }
  *c.mutable_connect_timeout() = TimeUtil::MillisecondsToDuration(1000);
  if (isHttp2Port(port) && !tcp_of_detected) setHttp2Upstream(&c);
  if (svc.external_name.empty()) {
    secureOutboundCluster(config, svc, isHttpPort(port) && !tcp_of_detected, &c);
  }
  if (policy != nullptr) {
    setLoadBalancer(*policy, isHttpPort(port) && !tcp_of_detected, &c);
    if (policy->connect_timeout_ms) {
      *c.mutable_connect_timeout() = TimeUtil::MillisecondsToDuration(*policy->connect_timeout_ms);
    }
    if (policy->max_connections || policy->max_pending_requests || policy->max_requests ||
        policy->max_retries || policy->retry_budget_percent || policy->min_retry_concurrency) {
      auto* t = c.mutable_circuit_breakers()->add_thresholds();
      if (policy->max_connections)
        t->mutable_max_connections()->set_value(*policy->max_connections);
      if (policy->max_pending_requests) {
        t->mutable_max_pending_requests()->set_value(*policy->max_pending_requests);
      }
      if (policy->max_requests) t->mutable_max_requests()->set_value(*policy->max_requests);
      if (policy->max_retries) t->mutable_max_retries()->set_value(*policy->max_retries);
      if (policy->retry_budget_percent || policy->min_retry_concurrency) {
        auto* budget = t->mutable_retry_budget();
        if (policy->retry_budget_percent) {
          budget->mutable_budget_percent()->set_value(*policy->retry_budget_percent);
        }
        if (policy->min_retry_concurrency) {
          budget->mutable_min_retry_concurrency()->set_value(*policy->min_retry_concurrency);
        }
      }
    }
    if (policy->outlier_detection) {
      const auto& o = *policy->outlier_detection;
      auto* od = c.mutable_outlier_detection();
      if (o.consecutive_5xx) od->mutable_consecutive_5xx()->set_value(*o.consecutive_5xx);
      if (o.consecutive_gateway_failures) {
        od->mutable_consecutive_gateway_failure()->set_value(*o.consecutive_gateway_failures);
        od->mutable_enforcing_consecutive_gateway_failure()->set_value(100);
      }
      if (o.interval_ms) *od->mutable_interval() = TimeUtil::MillisecondsToDuration(*o.interval_ms);
      if (o.base_ejection_time_ms) {
        *od->mutable_base_ejection_time() =
            TimeUtil::MillisecondsToDuration(*o.base_ejection_time_ms);
      }
      if (o.max_ejection_percent) {
        od->mutable_max_ejection_percent()->set_value(*o.max_ejection_percent);
      }
    }
  }
  return c;
}

namespace {

endpoint_v3::ClusterLoadAssignment loadAssignment(const ConfigSet& config, const Service& svc,
                                                  const ServicePort& port) {
  endpoint_v3::ClusterLoadAssignment cla;
  cla.set_cluster_name(outboundClusterName(svc, port.port));
  auto* locality = cla.add_endpoints();
  // gRPC's xDS client requires a locality, and ignores one without a weight.
  locality->mutable_locality();
  locality->mutable_load_balancing_weight()->set_value(1);
  for (const auto& slice : config.endpoint_slices) {
    if (slice.meta.ns != svc.meta.ns || slice.service_name != svc.meta.name) continue;
    uint16_t endpoint_port = endpointPort(slice, port);
    for (const auto& ep : slice.endpoints) {
      if (!ep.ready) continue;
      for (const auto& address : ep.addresses) {
        auto* lbe = locality->add_lb_endpoints();
        setAddress(lbe->mutable_endpoint()->mutable_address(), address, endpoint_port);
        lbe->set_health_status(core_v3::HEALTHY);
      }
    }
  }
  return cla;
}

}  // namespace

route_v3::VirtualHost serviceVirtualHost(const ConfigSet& config, const Service& svc,
                                         const ServicePort& port, bool bare_names) {
  route_v3::VirtualHost vh;
  vh.set_name(fqdn(svc) + ":" + std::to_string(port.port));
  std::vector<std::string> hosts = {svc.meta.name, svc.meta.name + "." + svc.meta.ns,
                                    svc.meta.name + "." + svc.meta.ns + ".svc", fqdn(svc)};
  if (!svc.cluster_ip.empty() && svc.cluster_ip != "None") hosts.push_back(svc.cluster_ip);
  for (const auto& h : hosts) {
    if (bare_names) vh.add_domains(h);
    vh.add_domains(h + ":" + std::to_string(port.port));
  }
  for (auto& route : httpRouteRoutes(config, svc, port)) *vh.add_routes() = std::move(route);
  // Without a matching HTTPRoute rule, traffic goes to the Service itself.
  auto* fallback = vh.add_routes();
  fallback->set_name("default");  // the Service itself, as the route is named in the README
  fallback->mutable_match()->set_prefix("/");
  fallback->mutable_route()->set_cluster(outboundClusterName(svc, port.port));
  addHashPolicy(config, svc, fallback->mutable_route());
  return vh;
}

bool egressAllowed(const ConfigSet& config, const ProxyIdentity& proxy, const Service& svc) {
  // A workload's own list (namespace/serviceAccount) beats its namespace's.
  auto it = config.mesh.egress_by_namespace.find(proxy.ns + "/" + proxy.service_account);
  if (it == config.mesh.egress_by_namespace.end()) {
    it = config.mesh.egress_by_namespace.find(proxy.ns);
  }
  if (it == config.mesh.egress_by_namespace.end()) return true;
  for (const auto& host : it->second) {
    size_t slash = host.find('/');
    std::string ns = slash == std::string::npos ? "*" : host.substr(0, slash);
    std::string name = slash == std::string::npos ? host : host.substr(slash + 1);
    if (ns == ".") ns = proxy.ns;
    if ((ns == "*" || ns == svc.meta.ns) && (name == "*" || name == svc.meta.name)) return true;
  }
  return false;
}

void addOutbound(const ConfigSet& config, const ProxyIdentity& proxy, bool grpc_client,
                 ProxyResources& out) {
  // Outbound: every Service this proxy may call.
  route_v3::RouteConfiguration outbound_routes;
  outbound_routes.set_name("outbound");
  for (const auto& svc : config.services) {
    if (!egressAllowed(config, proxy, svc)) continue;
    bool first_http = true;
    for (const auto& port : svc.ports) {
      add(out, kCds, outboundClusterName(svc, port.port), outboundCluster(config, svc, port));
      if (const DestinationPolicy* policy = destinationPolicyFor(config, svc)) {
        out.applied["DestinationPolicy " + policy->meta.ns + "/" + policy->meta.name] = kCds;
      }
      if (portProtocol(port) == PortProtocol::kDetect) {
        add(out, kCds, outboundTcpClusterName(svc, port.port),
            outboundCluster(config, svc, port, true));
      }
      if (svc.external_name.empty()) {  // an ExternalName's endpoints are its name
        add(out, kEds, outboundClusterName(svc, port.port), loadAssignment(config, svc, port));
      }
      if (!isHttpPort(port)) continue;
      *outbound_routes.add_virtual_hosts() = serviceVirtualHost(config, svc, port, first_http);
      for (const auto* routes : {&config.http_routes, &config.grpc_routes}) {
        for (const auto& route : *routes) {
          if (!route.attachesTo(svc, port)) continue;
          out.applied[std::string(route.kindName()) + " " + route.meta.ns + "/" + route.meta.name] =
              kRds;
        }
      }
      first_http = false;
    }
  }
  addHeadlessMembers(config, proxy, &outbound_routes, out);
  if (grpc_client) useGrpcClientHeaderMatchers(outbound_routes);
  add(out, kRds, "outbound", outbound_routes);
}

void addOutboundListener(const ProxyIdentity& proxy, ProxyResources& out) {
  // No interception: an HTTP listener the app calls explicitly, routing by Host.
  listener_v3::Listener outbound;
  outbound.set_name("outbound");
  outbound.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
  setAddress(outbound.mutable_address(), proxy.outbound_ip, proxy.outbound_port);
  auto* filter = outbound.add_filter_chains()->add_filters();
  filter->set_name("envoy.filters.network.http_connection_manager");
  filter->mutable_typed_config()->PackFrom(
      httpConnectionManager("outbound", "outbound", Downstream::kApp));
  add(out, kLds, "outbound", outbound);
}

}  // namespace weft::control
