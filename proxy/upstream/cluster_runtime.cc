#include "proxy/upstream/cluster_runtime.h"

namespace weft::upstream {

namespace {
// A host leaving while ejected leaves the ejection gauge; the CAS makes sure
// no worker clearing the same expired ejection counts it a second time.
void forgetHost(HostOutlierState& host, const stats::ClusterStats& stats) {
  uint64_t until = host.ejected_until_ms.load(std::memory_order_relaxed);
  if (until != 0 && host.ejected_until_ms.compare_exchange_strong(until, 0)) {
    stats::gaugeAdd(stats.outlier_ejections_active, -1);
  }
}
}  // namespace

RuntimeViewsPtr ClusterRuntimeRegistry::update(const config::Snapshot& snapshot) {
  auto next = std::make_shared<RuntimeViews>();
  std::map<std::string, std::vector<std::string>> next_addresses;
  for (const auto& [name, config] : snapshot.clusters) {
    ClusterRuntimeView view;
    // Previous hosts by address; each is taken at most once, so a host listed
    // twice gets two states rather than one shared by accident.
    std::multimap<std::string, std::shared_ptr<HostOutlierState>> previous_hosts;
    auto previous = current_->find(name);
    if (previous != current_->end()) {
      view.resources = previous->second.resources;
      const auto& addresses = addresses_[name];
      for (size_t i = 0; i < addresses.size(); ++i) {
        previous_hosts.emplace(addresses[i], previous->second.hosts[i]);
      }
    } else {
      view.resources = std::make_shared<ClusterResources>();
    }
    auto& addresses = next_addresses[name];
    for (const auto& host : config->hosts) {
      std::string address = host.address.toString();
      auto kept = previous_hosts.find(address);
      if (kept != previous_hosts.end()) {
        view.hosts.push_back(std::move(kept->second));
        previous_hosts.erase(kept);
      } else {
        view.hosts.push_back(std::make_shared<HostOutlierState>());
      }
      addresses.push_back(std::move(address));
    }
    for (auto& [address, state] : previous_hosts) forgetHost(*state, stats_.cluster(name));
    next->emplace(name, std::move(view));
  }
  for (const auto& [name, view] : *current_) {
    if (next->count(name) != 0) continue;
    for (const auto& state : view.hosts) forgetHost(*state, stats_.cluster(name));
  }
  current_ = std::move(next);
  addresses_ = std::move(next_addresses);
  return current_;
}

}  // namespace weft::upstream
