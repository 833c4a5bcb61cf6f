#include "controlplane/xds/tracing_translation.h"

#include <arpa/inet.h>
#include <google/protobuf/util/time_util.h>

#include <cstdlib>

#include "controlplane/xds/resource_builders.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/trace/v3/opentelemetry.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace weft::control {
namespace {

namespace listener_v3 = envoy::config::listener::v3;
namespace cluster_v3 = envoy::config::cluster::v3;
namespace hcm_v3 = envoy::extensions::filters::network::http_connection_manager::v3;

// The cluster spans go to, adding it when it is an IP of its own; "" when
// the collector's Service is unknown (spans are dropped and counted at the
// proxy until it appears).
// The collector's "HOST:PORT" (`path`: the OTLP/HTTP path, "" for gRPC).
std::string collectorAddress(const std::string& collector, std::string* path) {
  if (!collector.starts_with("http://")) return collector;
  size_t slash = collector.find('/', 7);
  *path = slash == std::string::npos ? "/v1/traces" : collector.substr(slash);
  return collector.substr(7, slash == std::string::npos ? slash : slash - 7);
}

std::string collectorCluster(const std::string& collector, bool grpc, const ConfigSet& config,
                             ProxyResources& out) {
  size_t colon = collector.rfind(':');
  std::string host = collector.substr(0, colon);
  auto port = static_cast<uint16_t>(std::atoi(collector.c_str() + colon + 1));
  in_addr ip{};
  if (inet_pton(AF_INET, host.c_str(), &ip) == 1) {
    cluster_v3::Cluster cluster;
    cluster.set_name(kTracingCollectorCluster);
    cluster.set_type(cluster_v3::Cluster::STATIC);
    *cluster.mutable_connect_timeout() =
        google::protobuf::util::TimeUtil::MillisecondsToDuration(1000);
    cluster.mutable_load_assignment()->set_cluster_name(kTracingCollectorCluster);
    setAddress(cluster.mutable_load_assignment()
                   ->add_endpoints()
                   ->add_lb_endpoints()
                   ->mutable_endpoint()
                   ->mutable_address(),
               host, port);
    if (grpc) setHttp2Upstream(&cluster);
    add(out, kCds, kTracingCollectorCluster, cluster);
    return kTracingCollectorCluster;
  }
  const std::string suffix = ".svc.cluster.local";
  if (host.size() > suffix.size() && host.ends_with(suffix))
    host.resize(host.size() - suffix.size());
  size_t dot = host.find('.');
  if (dot == std::string::npos) return "";
  const Service* svc = config.findService(host.substr(dot + 1), host.substr(0, dot));
  if (svc == nullptr) return "";
  std::string name = outboundClusterName(*svc, port);
  return out.by_type[kCds].count(name) ? name : "";
}

}  // namespace

void addTracing(const ConfigSet& config, const ProxyIdentity& proxy, ProxyResources& out) {
  if (config.mesh.tracing_collector.empty()) return;
  std::string http_path;
  std::string address = collectorAddress(config.mesh.tracing_collector, &http_path);
  std::string cluster = collectorCluster(address, http_path.empty(), config, out);
  if (cluster.empty()) return;
  hcm_v3::HttpConnectionManager::Tracing tracing;
  tracing.mutable_random_sampling()->set_value(config.mesh.tracing_sampling_percent);
  auto* provider = tracing.mutable_provider();
  provider->set_name("envoy.tracers.opentelemetry");
  envoy::config::trace::v3::OpenTelemetryConfig otel;
  auto timeout = google::protobuf::util::TimeUtil::MillisecondsToDuration(2000);
  if (http_path.empty()) {
    otel.mutable_grpc_service()->mutable_envoy_grpc()->set_cluster_name(cluster);
    *otel.mutable_grpc_service()->mutable_timeout() = timeout;
  } else {
    auto* uri = otel.mutable_http_service()->mutable_http_uri();
    uri->set_uri("http://" + address + http_path);
    uri->set_cluster(cluster);
    *uri->mutable_timeout() = timeout;
  }
  otel.set_service_name((proxy.canonical_service.empty() ? proxy.pod : proxy.canonical_service) +
                        "." + proxy.ns);
  packDeterministic(otel, provider->mutable_typed_config());
  editNetworkFilters(out, [&](listener_v3::Filter* filter) {
    hcm_v3::HttpConnectionManager hcm;
    if (!filter->typed_config().UnpackTo(&hcm)) return false;  // UnpackTo checks the type
    *hcm.mutable_tracing() = tracing;
    packDeterministic(hcm, filter->mutable_typed_config());
    return true;
  });
}

}  // namespace weft::control
