#include "controlplane/kube/watch.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/base/logging.h"

namespace weft::control::kube {

void listAndWatchUntilStopped(const std::atomic<bool>& stop, const std::string& what,
                              const std::function<bool(std::string* error)>& list_and_watch) {
  int backoff = 1;
  while (!stop) {
    std::string error;
    if (list_and_watch(&error)) {
      backoff = 1;
      continue;
    }
    if (stop) return;
    LOG_WARN("kube: %s: %s; retrying in %d s", what.c_str(), error.c_str(), backoff);
    for (int i = 0; i < backoff * 10 && !stop; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    backoff = std::min(backoff * 2, 30);
  }
}

WatchEnd watchOnce(const http::HttpEndpoint& server, const std::string& collection,
                   std::string* version, const std::atomic<bool>& stop,
                   const WatchCallbacks& callbacks, std::string* error) {
  http::BlockingHttpClient watch;
  std::string path = collection + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=300" +
                     "&resourceVersion=" + *version;
  if (!watch.get(server, path, 330, error)) return WatchEnd::kError;
  if (watch.status() == 410) return WatchEnd::kGone;
  if (watch.status() != 200) {
    *error = "watch " + collection + ": HTTP " + std::to_string(watch.status());
    return WatchEnd::kError;
  }
  if (callbacks.active_fd) callbacks.active_fd(watch.fd());
  WatchEnd end = WatchEnd::kTimedOut;
  std::string line;
  while (!stop && watch.readLine(&line)) {
    if (line.empty()) continue;
    auto event = nlohmann::json::parse(line, nullptr, false);
    if (!event.is_object()) continue;
    std::string type = event.value("type", "");
    const auto& object = event["object"];
    if (type == "ERROR") {
      if (object.is_object() && object.value("code", 0) == 410) {
        end = WatchEnd::kGone;
      } else {
        *error =
            "watch error: " + (object.is_object() ? object.value("message", std::string("unknown"))
                                                  : std::string("unknown"));
        end = WatchEnd::kError;
      }
      break;
    }
    if (!object.is_object()) continue;
    if (object.contains("metadata") && object["metadata"].is_object()) {
      *version = object["metadata"].value("resourceVersion", *version);
    }
    if (type == "BOOKMARK") continue;
    callbacks.on_event(type, object);
  }
  if (callbacks.active_fd) callbacks.active_fd(-1);
  return stop ? WatchEnd::kStopped : end;
}

}  // namespace weft::control::kube
