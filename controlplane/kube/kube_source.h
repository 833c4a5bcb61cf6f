#pragma once

// The Kubernetes API as a config source: list, then watch (with bookmarks)
// each kind weft reads; relist when the API answers 410 Gone; back off on
// errors. One thread per kind blocks on the API; changes reach the main
// thread, which rebuilds and validates the configuration after a debounce,
// exactly as the directory source does.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/event/dispatcher.h"
#include "common/http/blocking_client.h"
#include "controlplane/config/kinds.h"
#include "controlplane/model/objects.h"

namespace weft::control::kube {

// From a kubeconfig file (its current context); false with `error` set.
bool loadKubeconfig(const std::string& path, http::HttpEndpoint* server, std::string* error);
// From the pod's service account (KUBERNETES_SERVICE_HOST and the mounted
// token and CA); false when not running in a cluster.
bool inClusterConfig(http::HttpEndpoint* server, std::string* error);

class KubeSource {
 public:
  using OnConfig = std::function<void(std::shared_ptr<const ConfigSet>)>;

  KubeSource(event::Dispatcher& dispatcher, http::HttpEndpoint server, uint64_t debounce_ms,
             OnConfig on_config);
  ~KubeSource();

  void start();

 private:
  void watchLoop(size_t index);
  bool listAndWatch(size_t index, std::string* error);
  void store(size_t index, const std::string& type, const std::string& object_json);
  void changed();
  void rebuild();

  event::Dispatcher& dispatcher_;
  http::HttpEndpoint server_;
  uint64_t debounce_ms_;
  OnConfig on_config_;
  // The kinds of controlplane/config/kinds.h: one list-and-watch thread each.
  const std::vector<MeshKind>& kinds_;
  event::Timer debounce_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::map<std::string, std::string>> objects_;  // per kind: ns/name -> JSON
  std::vector<int> active_fds_;                              // to interrupt blocked reads
  std::vector<std::thread> threads_;
  std::shared_ptr<const ConfigSet> current_;
};

}  // namespace weft::control::kube
