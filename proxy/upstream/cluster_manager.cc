#include "proxy/upstream/cluster_manager.h"

#include <chrono>

namespace weft::upstream {

void WorkerCluster::update(config::ClusterConfigPtr config, const ClusterRuntimeView& runtime) {
  config_ = std::move(config);
  resources_ = runtime.resources;
  std::multimap<std::string, WorkerHostPtr> previous;
  for (auto& host : hosts_) previous.emplace(host->address().toString(), std::move(host));
  hosts_.clear();
  lb_hosts_.clear();
  for (size_t i = 0; i < config_->hosts.size(); ++i) {
    const config::HostConfig& host_config = config_->hosts[i];
    WorkerHostPtr host;
    auto kept = previous.find(host_config.address.toString());
    if (kept != previous.end()) {
      host = std::move(kept->second);
      previous.erase(kept);
      host->config_ = host_config;
      host->outlier_ = runtime.hosts[i];
      host->pool_->updateCluster(config_, resources_);
    } else {
      host = std::make_shared<WorkerHost>(
          host_config, runtime.hosts[i],
          pools_(dispatcher_, config_, resources_, host_config, stats_.cx_overflow, tls_stats_));
    }
    host->lb_.weight = host_config.weight;
    hosts_.push_back(host);
    lb_hosts_.push_back(&host->lb_);
  }
  rebuildHashTable();
  // Gone from the cluster: no new stream picks them; streams still on them
  // hold them until they end, then the pool (drained meanwhile) is freed.
  for (auto& [address, host] : previous) {
    host->removed_ = true;
    host->pool_->drainConnections();
  }
}

void WorkerCluster::rebuildHashTable() {
  hash_table_.reset();
  const config::LbPolicy policy = config_->lb_policy;
  if (policy != config::LbPolicy::kRingHash && policy != config::LbPolicy::kMaglev) return;
  std::vector<HashLbHost> keys;
  keys.reserve(hosts_.size());
  for (const auto& host : hosts_) keys.push_back({host->address().toString(), host->lb_.weight});
  hash_table_ = policy == config::LbPolicy::kRingHash
                    ? buildRingHash(keys, config_->ring_min_size, config_->ring_max_size)
                    : buildMaglev(keys, config_->maglev_table_size);
}

void WorkerCluster::remove() {
  removed_ = true;
  for (auto& host : hosts_) {
    host->removed_ = true;
    host->pool_->drainConnections();
  }
  hosts_.clear();
  lb_hosts_.clear();
}

void WorkerCluster::reportResult(WorkerHost& host, Result result) {
  const config::OutlierConfig& o = config_->outlier;
  if (!o.enabled || host.removed_) return;
  HostOutlierState& state = host.outlier();
  if (result == Result::kSuccess) {
    state.consecutive_5xx.store(0, std::memory_order_relaxed);
    state.consecutive_gateway_failure.store(0, std::memory_order_relaxed);
    return;
  }
  uint32_t c5 = state.consecutive_5xx.fetch_add(1, std::memory_order_relaxed) + 1;
  uint32_t cg = 0;
  if (result == Result::kGatewayFailure) {
    cg = state.consecutive_gateway_failure.fetch_add(1, std::memory_order_relaxed) + 1;
  } else {
    state.consecutive_gateway_failure.store(0, std::memory_order_relaxed);
  }
  if ((o.enforce_5xx && c5 >= o.consecutive_5xx) ||
      (o.enforce_gateway_failure && cg >= o.consecutive_gateway_failure)) {
    tryEject(host, config::steadyNowMs());
  }
}

void WorkerCluster::tryEject(WorkerHost& host, uint64_t now_ms) {
  const config::OutlierConfig& o = config_->outlier;
  HostOutlierState& state = host.outlier();
  if (state.ejected_until_ms.load(std::memory_order_relaxed) > now_ms) return;
  size_t ejected = 0;
  for (const auto& h : hosts_)
    ejected += h->outlier().ejected_until_ms.load(std::memory_order_relaxed) > now_ms;
  // Never eject past max_ejection_percent; like Envoy, one host may always go.
  size_t limit = hosts_.size() * o.max_ejection_percent / 100;
  if (limit == 0 && o.max_ejection_percent > 0) limit = 1;
  if (ejected >= limit || hosts_.size() < 2) return;
  uint32_t n = state.ejections.fetch_add(1, std::memory_order_relaxed) + 1;
  uint64_t duration = std::min<uint64_t>(o.base_ejection_time_ms * n,
                                         std::max(o.base_ejection_time_ms, o.max_ejection_time_ms));
  state.ejected_until_ms.store(now_ms + duration, std::memory_order_relaxed);
  state.consecutive_5xx.store(0, std::memory_order_relaxed);
  state.consecutive_gateway_failure.store(0, std::memory_order_relaxed);
  stats::inc(stats_.outlier_ejections);
  stats::gaugeAdd(stats_.outlier_ejections_active, 1);
}

WorkerHostPtr WorkerCluster::pickHost(std::mt19937_64& rng, std::optional<uint64_t> hash) {
  if (hosts_.empty()) return nullptr;
  if (config_->outlier.enabled) {
    uint64_t now = config::steadyNowMs();
    bool any = false;
    for (auto& host : hosts_) {
      auto& state = host->outlier();
      uint64_t until = state.ejected_until_ms.load(std::memory_order_relaxed);
      // An ejection that has run out: the one worker that clears it counts it.
      if (until != 0 && until <= now &&
          state.ejected_until_ms.compare_exchange_strong(until, 0, std::memory_order_relaxed)) {
        stats::gaugeAdd(stats_.outlier_ejections_active, -1);
      }
      host->lb_.available = state.ejected_until_ms.load(std::memory_order_relaxed) <= now;
      any |= host->lb_.available;
    }
    // Every host ejected (cannot happen within the percent limit, but config
    // changes can shrink a cluster): use them all rather than fail (panic mode).
    if (!any) {
      for (auto& host : hosts_) host->lb_.available = true;
    }
  }
  int index;
  if (hosts_.size() == 1) {
    index = hosts_[0]->lb_.available ? 0 : -1;
  } else if (hash_table_ != nullptr) {
    index = hash_table_->pick(hash ? *hash : rng(), lb_hosts_);
  } else if (config_->lb_policy == config::LbPolicy::kLeastRequest) {
    index = LoadBalancer::pickLeastRequest(lb_hosts_, config_->least_request_choices, rng);
  } else {
    index = LoadBalancer::pickRoundRobin(lb_hosts_);
  }
  return index < 0 ? nullptr : hosts_[index];
}

void WorkerClusterManager::update(const config::Snapshot& snapshot, const RuntimeViews& runtime) {
  for (const auto& [name, config] : snapshot.clusters) {
    auto& cluster = clusters_[name];
    if (!cluster) {
      cluster =
          std::make_shared<WorkerCluster>(dispatcher_, stats_.cluster(name), &stats_.tls(), pools_);
    }
    cluster->update(config, runtime.at(name));
  }
  for (auto it = clusters_.begin(); it != clusters_.end();) {
    if (snapshot.clusters.count(it->first) != 0) {
      ++it;
      continue;
    }
    it->second->remove();  // streams still on it keep it until they end
    it = clusters_.erase(it);
  }
}

void WorkerClusterManager::keepDetached(std::shared_ptr<DetachedRequest> work) {
  const DetachedRequest* key = work.get();
  detached_.emplace(key, std::move(work));
}

void WorkerClusterManager::releaseDetached(const DetachedRequest* work) {
  auto it = detached_.find(work);
  if (it == detached_.end()) return;
  // Deferred: `work` is usually on its own call stack.
  auto holder = std::make_unique<std::shared_ptr<DetachedRequest>>(std::move(it->second));
  detached_.erase(it);
  dispatcher_.deferDelete(std::move(holder));
}

void WorkerClusterManager::drainConnections() {
  for (auto& [name, cluster] : clusters_) {
    for (auto& host : cluster->hosts_) host->pool().drainConnections();
  }
}

}  // namespace weft::upstream
