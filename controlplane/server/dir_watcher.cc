#include "controlplane/server/dir_watcher.h"

#include <chrono>

#include "common/base/logging.h"
#include "controlplane/config/config_dir.h"
#include "controlplane/config/parser.h"

namespace weft::control {

DirWatcher::DirWatcher(event::Dispatcher& dispatcher, std::string dir, uint64_t debounce_ms,
                       OnConfig on_config)
    : dispatcher_(dispatcher),
      dir_(std::move(dir)),
      debounce_ms_(debounce_ms),
      on_config_(std::move(on_config)),
      handle_(new uv_fs_event_t),
      debounce_(dispatcher, [this] { reload(); }) {
  uv_fs_event_init(dispatcher_.loop(), handle_);
  handle_->data = this;
}

DirWatcher::~DirWatcher() {
  uv_fs_event_stop(handle_);
  handle_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_fs_event_t*>(h); });
}

bool DirWatcher::start() {
  reload();
  int rc = uv_fs_event_start(
      handle_,
      [](uv_fs_event_t* h, const char*, int, int status) {
        auto* self = static_cast<DirWatcher*>(h->data);
        if (self == nullptr || status != 0) return;
        self->debounce_.enableMs(self->debounce_ms_);  // restarts the window
      },
      dir_.c_str(), 0);
  if (rc != 0) {
    LOG_ERROR("cannot watch %s: %s", dir_.c_str(), uv_strerror(rc));
    return false;
  }
  return true;
}

void DirWatcher::reload() {
  auto start = std::chrono::steady_clock::now();
  auto config = std::make_shared<ConfigSet>(loadConfigDir(dir_, current_.get()));
  current_ = config;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& e : config->errors) LOG_WARN("config: %s", e.toString().c_str());
  LOG_INFO(
      "config: loaded %s in %.1f ms: %zu services, %zu endpoint slices, %zu routes, %zu "
      "policies, %zu errors",
      dir_.c_str(), seconds * 1000, config->services.size(), config->endpoint_slices.size(),
      config->http_routes.size() + config->grpc_routes.size(), config->destination_policies.size(),
      config->errors.size());
  on_config_(std::move(config));
}

}  // namespace weft::control
