#include "proxy/upstream/cluster_manager.h"

namespace weft::upstream {

int WorkerCluster::pickHost(std::mt19937_64& rng) {
  if (lb_hosts_.empty()) return -1;
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
      if (!pool) pool = std::make_unique<HttpConnPool>(dispatcher_, config, host);
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
