#pragma once

// Watches a directory of YAML files (libuv fs events) and reloads the whole
// configuration a short debounce after the last change, so an editor's
// burst of writes, or `kubectl apply`-style replacement, is one update.

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "common/event/dispatcher.h"
#include "controlplane/model/objects.h"

namespace weft::control {

class DirWatcher {
 public:
  using OnConfig = std::function<void(std::shared_ptr<const ConfigSet>)>;

  DirWatcher(event::Dispatcher& dispatcher, std::string dir, uint64_t debounce_ms,
             OnConfig on_config);
  ~DirWatcher();

  // Loads once now, then watches. False when the directory cannot be watched.
  bool start();

 private:
  void reload();

  event::Dispatcher& dispatcher_;
  std::string dir_;
  uint64_t debounce_ms_;
  OnConfig on_config_;
  uv_fs_event_t* handle_;
  event::Timer debounce_;
  std::shared_ptr<const ConfigSet> current_;
};

}  // namespace weft::control
