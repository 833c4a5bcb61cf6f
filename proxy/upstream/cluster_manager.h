#pragma once

// Per-worker runtime of the upstream clusters. A WorkerCluster lives as long
// as its cluster name is configured (not per snapshot), and a WorkerHost as
// long as its address is in the cluster: an update swaps the config they
// read and keeps their load-balancer state, connection pools and (shared
// with every worker) breaker counters and ejections. A stream in flight holds
// its cluster and its host by shared_ptr, so whatever a push removes stays
// valid until the stream lets go; a removed host's pool drains and is freed
// with the last stream using it.

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/event/dispatcher.h"
#include "proxy/config/snapshot.h"
#include "proxy/stats/stats.h"
#include "proxy/upstream/cluster_runtime.h"
#include "proxy/upstream/conn_pool.h"
#include "proxy/upstream/hash_lb.h"
#include "proxy/upstream/load_balancer.h"

namespace weft::upstream {

class WorkerHost {
 public:
  WorkerHost(config::HostConfig config, std::shared_ptr<HostOutlierState> outlier,
             std::unique_ptr<ConnPool> pool)
      : config_(std::move(config)), outlier_(std::move(outlier)), pool_(std::move(pool)) {}

  const config::HostConfig& config() const { return config_; }
  const network::Address& address() const { return config_.address; }
  ConnPool& pool() { return *pool_; }
  HostOutlierState& outlier() { return *outlier_; }
  LbHost& lb() { return lb_; }
  bool removed() const { return removed_; }

 private:
  friend class WorkerCluster;
  config::HostConfig config_;
  std::shared_ptr<HostOutlierState> outlier_;
  std::unique_ptr<ConnPool> pool_;
  LbHost lb_;
  bool removed_ = false;
};

using WorkerHostPtr = std::shared_ptr<WorkerHost>;

class WorkerCluster {
 public:
  WorkerCluster(event::Dispatcher& dispatcher, stats::ClusterStats stats,
                const stats::TlsStats* tls_stats, const ConnPoolFactory& pools)
      : dispatcher_(dispatcher), stats_(stats), tls_stats_(tls_stats), pools_(pools) {}

  // The cluster's current configuration (the latest push).
  const config::ClusterConfig& config() const { return *config_; }
  const stats::ClusterStats& stats() const { return stats_; }
  // Held by whoever counted itself in, so the count it undoes is the one it made.
  const std::shared_ptr<ClusterResources>& resources() const { return resources_; }
  // A host chosen among the current, non-ejected ones; nullptr when none.
  // `hash`: the request's, for a RING_HASH / MAGLEV cluster (without one,
  // such a cluster picks at random; other clusters ignore it).
  WorkerHostPtr pickHost(std::mt19937_64& rng, std::optional<uint64_t> hash = std::nullopt);
  const std::vector<WorkerHostPtr>& hosts() const { return hosts_; }
  void onRequestStart(WorkerHost& host) { ++host.lb_.active_requests; }
  void onRequestEnd(WorkerHost& host) { --host.lb_.active_requests; }
  // The outcome of one attempt on `host`, for outlier detection.
  enum class Result { kSuccess, k5xx, kGatewayFailure };
  void reportResult(WorkerHost& host, Result result);
  // True once a push removed the cluster: nothing new is sent to it.
  bool removed() const { return removed_; }

 private:
  friend class WorkerClusterManager;
  // Adopts `config`: hosts matched by address keep their WorkerHost (pool,
  // load-balancer state); removed ones drain.
  void update(config::ClusterConfigPtr config, const ClusterRuntimeView& runtime);
  void remove();
  void rebuildHashTable();
  void tryEject(WorkerHost& host, uint64_t now_ms);

  event::Dispatcher& dispatcher_;
  stats::ClusterStats stats_;
  const stats::TlsStats* tls_stats_;
  const ConnPoolFactory& pools_;  // the cluster manager's
  config::ClusterConfigPtr config_;
  std::shared_ptr<ClusterResources> resources_;
  std::vector<WorkerHostPtr> hosts_;
  std::vector<LbHost*> lb_hosts_;  // hosts_' load-balancer entries, for the algorithms
  // RING_HASH / MAGLEV: built from hosts_ at each update, the same on every
  // worker (it depends on addresses and weights only).
  std::unique_ptr<HashLbTable> hash_table_;
  bool removed_ = false;
};

// Upstream work no stream waits for (a request mirror): the worker's
// cluster manager keeps it until it lets itself go, so it may outlive the
// stream that began it, and destroys what is left before the clusters and
// their pools when the worker goes.
class DetachedRequest {
 public:
  virtual ~DetachedRequest() = default;
};

// What the streams of a worker use of its clusters (the router, the TCP
// proxy, fault injection's dice); WorkerClusterManager implements it.
class ClusterManager {
 public:
  virtual ~ClusterManager() = default;
  // Shared: a request in flight keeps its cluster across an update.
  virtual std::shared_ptr<WorkerCluster> get(const std::string& name) = 0;
  virtual std::mt19937_64& rng() = 0;
  virtual const stats::TlsStats& tlsStats() const = 0;
  // Keeps `work` alive until release(); release() destroys it once the
  // current event-loop iteration is over (it may be releasing itself).
  virtual void keepDetached(std::shared_ptr<DetachedRequest> work) = 0;
  virtual void releaseDetached(const DetachedRequest* work) = 0;
};

// The worker's clusters, updated by each snapshot.
class WorkerClusterManager : public ClusterManager {
 public:
  // `pools` makes each new host's connection pool.
  WorkerClusterManager(event::Dispatcher& dispatcher, stats::Store& stats,
                       ConnPoolFactory pools = httpConnPoolFactory())
      : dispatcher_(dispatcher),
        stats_(stats),
        pools_(std::move(pools)),
        rng_(std::random_device{}()) {}
  const stats::TlsStats& tlsStats() const override { return stats_.tls(); }

  // `runtime` holds a view for every cluster of `snapshot`.
  void update(const config::Snapshot& snapshot, const RuntimeViews& runtime);
  std::shared_ptr<WorkerCluster> get(const std::string& name) override {
    auto it = clusters_.find(name);
    return it == clusters_.end() ? nullptr : it->second;
  }
  std::mt19937_64& rng() override { return rng_; }
  void keepDetached(std::shared_ptr<DetachedRequest> work) override;
  void releaseDetached(const DetachedRequest* work) override;
  size_t detachedCount() const { return detached_.size(); }
  // Drain: idle upstream connections close now, busy ones after their stream.
  void drainConnections();

 private:
  event::Dispatcher& dispatcher_;
  stats::Store& stats_;
  ConnPoolFactory pools_;
  std::mt19937_64 rng_;
  std::map<std::string, std::shared_ptr<WorkerCluster>> clusters_;
  // After clusters_: destroyed first, while the pools they use still exist.
  std::map<const DetachedRequest*, std::shared_ptr<DetachedRequest>> detached_;
};

}  // namespace weft::upstream
