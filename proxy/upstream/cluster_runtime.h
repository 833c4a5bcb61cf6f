#pragma once

// Runtime state of the upstream clusters that every worker shares and that
// outlives any one configuration: the circuit-breaker counters and retry
// budget of a cluster, the outlier-detection state of each host. A push that
// keeps a cluster keeps its counters (a new threshold applies to the live
// count); a host that stays (same address) keeps its ejection. Envoy's rule:
// config objects are immutable and shared; runtime objects are owned by the
// proxy and outlive the snapshots that name them.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proxy/config/snapshot.h"
#include "proxy/stats/stats.h"

namespace weft::upstream {

// Outlier-detection state of one host.
struct HostOutlierState {
  std::atomic<uint32_t> consecutive_5xx{0};
  std::atomic<uint32_t> consecutive_gateway_failure{0};
  std::atomic<uint64_t> ejected_until_ms{0};  // steady-clock ms; 0: not ejected
  std::atomic<uint32_t> ejections{0};
};

// Counters of one cluster, summed over every worker.
struct ClusterResources {
  std::atomic<uint32_t> active_requests{0};
  std::atomic<uint32_t> active_retries{0};
  std::atomic<uint32_t> connections{0};       // open or opening, every worker's pools
  std::atomic<uint32_t> pending_requests{0};  // waiting for a connection
};

// One cluster's runtime as one snapshot sees it: `hosts` lines up with the
// snapshot's ClusterConfig::hosts. Immutable once built; the states it points
// to are atomics every worker updates.
struct ClusterRuntimeView {
  std::shared_ptr<ClusterResources> resources;
  std::vector<std::shared_ptr<HostOutlierState>> hosts;
};

using RuntimeViews = std::map<std::string, ClusterRuntimeView>;
using RuntimeViewsPtr = std::shared_ptr<const RuntimeViews>;

// Main thread only: carries runtime state from one snapshot to the next.
class ClusterRuntimeRegistry {
 public:
  explicit ClusterRuntimeRegistry(stats::Store& stats) : stats_(stats) {}

  // The views for `snapshot`: state kept for the cluster names and host
  // addresses the previous snapshot had, new state for the rest. Forgotten
  // state stays alive for whoever still holds it (streams in flight).
  RuntimeViewsPtr update(const config::Snapshot& snapshot);
  const RuntimeViewsPtr& current() const { return current_; }

 private:
  stats::Store& stats_;
  RuntimeViewsPtr current_ = std::make_shared<RuntimeViews>();
  // Host addresses of `current_`, index-aligned with its views' hosts.
  std::map<std::string, std::vector<std::string>> addresses_;
};

}  // namespace weft::upstream
