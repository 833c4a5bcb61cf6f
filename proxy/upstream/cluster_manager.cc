#include "proxy/upstream/cluster_manager.h"

#include <chrono>

namespace weft::upstream {

uint64_t steadyNowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

void WorkerCluster::reportResult(int host, Result result) {
  const OutlierConfig& o = config_->outlier;
  if (!o.enabled || host < 0) return;
  HostOutlierState& state = config_->resources->outlier[host];
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
    tryEject(host, steadyNowMs());
  }
}

void WorkerCluster::tryEject(int host, uint64_t now_ms) {
  const OutlierConfig& o = config_->outlier;
  auto& hosts = config_->resources->outlier;
  if (hosts[host].ejected_until_ms.load(std::memory_order_relaxed) > now_ms) return;
  size_t ejected = 0;
  for (const auto& h : hosts)
    ejected += h.ejected_until_ms.load(std::memory_order_relaxed) > now_ms;
  // Never eject past max_ejection_percent; like Envoy, one host may always go.
  size_t limit = hosts.size() * o.max_ejection_percent / 100;
  if (limit == 0 && o.max_ejection_percent > 0) limit = 1;
  if (ejected >= limit || hosts.size() < 2) return;
  uint32_t n = hosts[host].ejections.fetch_add(1, std::memory_order_relaxed) + 1;
  uint64_t duration = std::min<uint64_t>(o.base_ejection_time_ms * n,
                                         std::max(o.base_ejection_time_ms, o.max_ejection_time_ms));
  hosts[host].ejected_until_ms.store(now_ms + duration, std::memory_order_relaxed);
  hosts[host].consecutive_5xx.store(0, std::memory_order_relaxed);
  hosts[host].consecutive_gateway_failure.store(0, std::memory_order_relaxed);
  stats::inc(stats_.outlier_ejections);
  stats::gaugeAdd(stats_.outlier_ejections_active, 1);
}

int WorkerCluster::pickHost(std::mt19937_64& rng) {
  if (lb_hosts_.empty()) return -1;
  if (config_->outlier.enabled) {
    uint64_t now = steadyNowMs();
    bool any = false;
    for (size_t i = 0; i < lb_hosts_.size(); ++i) {
      auto& state = config_->resources->outlier[i];
      uint64_t until = state.ejected_until_ms.load(std::memory_order_relaxed);
      // An ejection that has run out: the one worker that clears it counts it.
      if (until != 0 && until <= now &&
          state.ejected_until_ms.compare_exchange_strong(until, 0, std::memory_order_relaxed)) {
        stats::gaugeAdd(stats_.outlier_ejections_active, -1);
      }
      lb_hosts_[i].available = state.ejected_until_ms.load(std::memory_order_relaxed) <= now;
      any |= lb_hosts_[i].available;
    }
    // Every host ejected (cannot happen within the percent limit, but config
    // changes can shrink a cluster): use them all rather than fail (panic mode).
    if (!any) {
      for (auto& h : lb_hosts_) h.available = true;
    }
  }
  if (lb_hosts_.size() == 1) return lb_hosts_[0].available ? 0 : -1;
  if (config_->lb_policy == LbPolicy::kLeastRequest) {
    return LoadBalancer::pickLeastRequest(lb_hosts_, config_->least_request_choices, rng);
  }
  return LoadBalancer::pickRoundRobin(lb_hosts_);
}

void ClusterManager::update(const config::Snapshot& snapshot) {
  std::map<std::string, std::shared_ptr<WorkerCluster>> next;
  for (const auto& [name, config] : snapshot.clusters) {
    auto cluster = std::make_shared<WorkerCluster>(config, stats_.cluster(name));
    std::shared_ptr<WorkerCluster> previous = get(name);
    for (const auto& host : config->hosts) {
      std::unique_ptr<HttpConnPool> pool;
      if (previous != nullptr) {
        for (auto& old : previous->pools_) {
          if (old && old->host().address == host.address) {
            pool = std::move(old);
            pool->updateCluster(config);
            break;
          }
        }
      }
      if (!pool) {
        pool = std::make_unique<HttpConnPool>(dispatcher_, config, host,
                                              cluster->stats().cx_overflow, &stats_.tls());
      }
      LbHost lb;
      lb.weight = host.weight;
      cluster->lb_hosts_.push_back(lb);
      cluster->pools_.push_back(std::move(pool));
    }
    next[name] = std::move(cluster);
  }
  for (auto& [name, cluster] : clusters_) {
    for (auto& pool : cluster->pools_) {
      if (pool) {
        pool->drainConnections();
        retired_pools_.push_back(std::move(pool));
      }
    }
  }
  clusters_ = std::move(next);
}

void ClusterManager::drainConnections() {
  for (auto& [name, cluster] : clusters_) {
    for (auto& pool : cluster->pools_) pool->drainConnections();
  }
}

}  // namespace weft::upstream
