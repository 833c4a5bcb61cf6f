#include "controlplane/xds/cache.h"

#include <vector>

namespace weft::control {

void XdsCache::update(std::shared_ptr<const ConfigSet> config) {
  std::vector<Watcher> watchers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    config_ = std::move(config);
    ++generation_;
    translations_.clear();
    for (const auto& [id, w] : watchers_) watchers.push_back(w);
  }
  for (auto& w : watchers) w();
}

std::shared_ptr<const ConfigSet> XdsCache::config() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return config_;
}

uint64_t XdsCache::generation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return generation_;
}

std::shared_ptr<const ProxyResources> XdsCache::resourcesFor(
    const ProxyIdentity& proxy, const std::set<std::string>& api_names) {
  std::string key = proxy.cacheKey();
  for (const auto& n : api_names) key += "|" + n;
  std::shared_ptr<const ConfigSet> config;
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = translations_.find(key);
    if (it != translations_.end()) return it->second;
    if (config_ == nullptr) return nullptr;
    config = config_;
    generation = generation_;
  }
  auto resources = translateForProxy(*config, proxy, api_names);
  std::lock_guard<std::mutex> lock(mutex_);
  if (generation == generation_) translations_[key] = resources;
  return resources;
}

uint64_t XdsCache::addWatcher(Watcher watcher) {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t id = next_watcher_++;
  watchers_[id] = std::move(watcher);
  return id;
}

void XdsCache::removeWatcher(uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  watchers_.erase(id);
}

}  // namespace weft::control
