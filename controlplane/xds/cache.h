#pragma once

// The current configuration and the per-proxy resources derived from it.
// Thread-safe: the config source updates it on the main thread, gRPC
// reactors read it on gRPC's threads. Translations are cached per config
// generation and proxy class, so 1,000 identical proxies cost one translation.
//
// Until the config source has delivered its first full configuration the
// cache is not ready and hands out no resources: a proxy that connects to a
// control plane still reading its config must keep what it has, not be sent
// an empty mesh (Istio likewise waits for its informers to sync).

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "controlplane/model/objects.h"
#include "controlplane/xds/resources.h"
#include "controlplane/xds/translator.h"

namespace weft::control {

class XdsCache {
 public:
  // Installs a new configuration and calls every watcher.
  void update(std::shared_ptr<const ConfigSet> config);
  // Null until the first update.
  std::shared_ptr<const ConfigSet> config() const;
  bool ready() const { return config() != nullptr; }
  uint64_t generation() const;

  // Null until the first update.
  std::shared_ptr<const ProxyResources> resourcesFor(const ProxyIdentity& proxy,
                                                     const std::set<std::string>& api_names);

  // Watchers are called (outside the lock) after each update.
  using Watcher = std::function<void()>;
  uint64_t addWatcher(Watcher watcher);
  void removeWatcher(uint64_t id);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const ConfigSet> config_;
  uint64_t generation_ = 1;
  std::map<std::string, std::shared_ptr<const ProxyResources>> translations_;
  std::map<uint64_t, Watcher> watchers_;
  uint64_t next_watcher_ = 1;
};

}  // namespace weft::control
