#pragma once

// Per-worker view of the upstream clusters: load-balancer state and
// connection pools, rebuilt from each snapshot while keeping pools (and their
// warm connections) for hosts that did not change.

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "proxy/config/snapshot.h"
#include "proxy/event/dispatcher.h"
#include "proxy/stats/stats.h"
#include "proxy/upstream/conn_pool.h"
#include "proxy/upstream/load_balancer.h"

namespace weft::upstream {

class WorkerCluster {
 public:
  WorkerCluster(ClusterConfigPtr config, stats::ClusterStats stats)
      : config_(std::move(config)), stats_(stats) {}

  const ClusterConfig& config() const { return *config_; }
  const stats::ClusterStats& stats() const { return stats_; }
  // Index of the chosen host, or -1 when none is available.
  int pickHost(std::mt19937_64& rng);
  HttpConnPool& pool(int host) { return *pools_[host]; }
  const HostConfig& host(int index) const { return config_->hosts[index]; }
  void onRequestStart(int host) { ++lb_hosts_[host].active_requests; }
  // The outcome of one attempt on `host`, for outlier detection.
  enum class Result { kSuccess, k5xx, kGatewayFailure };
  void reportResult(int host, Result result);
  void onRequestEnd(int host) { --lb_hosts_[host].active_requests; }

 private:
  friend class ClusterManager;
  void tryEject(int host, uint64_t now_ms);

  ClusterConfigPtr config_;
  stats::ClusterStats stats_;
  std::vector<LbHost> lb_hosts_;
  std::vector<std::unique_ptr<HttpConnPool>> pools_;
};

class ClusterManager {
 public:
  ClusterManager(event::Dispatcher& dispatcher, stats::Store& stats)
      : dispatcher_(dispatcher), stats_(stats), rng_(std::random_device{}()) {}
  const stats::TlsStats& tlsStats() const { return stats_.tls(); }

  void update(const config::Snapshot& snapshot);
  // Shared: a request in flight keeps its cluster's state across an update.
  std::shared_ptr<WorkerCluster> get(const std::string& name) {
    auto it = clusters_.find(name);
    return it == clusters_.end() ? nullptr : it->second;
  }
  std::mt19937_64& rng() { return rng_; }
  // Drain: idle upstream connections close now, busy ones after their stream.
  void drainConnections();

 private:
  event::Dispatcher& dispatcher_;
  stats::Store& stats_;
  std::mt19937_64 rng_;
  std::map<std::string, std::shared_ptr<WorkerCluster>> clusters_;
  // Pools of removed hosts live until their in-flight streams end.
  std::vector<std::unique_ptr<HttpConnPool>> retired_pools_;
};

}  // namespace weft::upstream
