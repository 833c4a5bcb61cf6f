#include "proxy/admin/clusters_text.h"

namespace weft::admin {

std::string clustersText(const config::Snapshot& snapshot, const upstream::RuntimeViews& runtime) {
  // Envoy's /clusters text shape: cluster::host::field::value.
  std::string out;
  for (const auto& [name, cluster] : snapshot.clusters) {
    const upstream::ClusterRuntimeView& view = runtime.at(name);
    out += name +
           "::default_priority::max_connections::" + std::to_string(cluster->max_connections) +
           "\n";
    out += name + "::default_priority::max_pending_requests::" +
           std::to_string(cluster->max_pending_requests) + "\n";
    uint64_t now = config::steadyNowMs();
    for (size_t i = 0; i < cluster->hosts.size(); ++i) {
      const auto& host = cluster->hosts[i];
      const auto& outlier = *view.hosts[i];
      bool ejected = outlier.ejected_until_ms.load() > now;
      std::string prefix = name + "::" + host.address.toString() + "::";
      out += prefix + "weight::" + std::to_string(host.weight) + "\n";
      out += prefix + "health_flags::" + (ejected ? "/failed_outlier_check" : "healthy") + "\n";
      out += prefix + "outlier_ejections::" + std::to_string(outlier.ejections.load()) + "\n";
    }
  }
  return out;
}

}  // namespace weft::admin
