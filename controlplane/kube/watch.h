#pragma once

// One Kubernetes watch request (`?watch=1`, bookmarks on), read to its end:
// the shared half of list-then-watch for every reader of the API.

#include <atomic>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "common/http/blocking_client.h"

namespace weft::control::kube {

enum class WatchEnd {
  kTimedOut,  // the server ended it (timeoutSeconds): watch again from the version
  kGone,      // 410: the version is too old, list again
  kError,     // `error` says why; back off
  kStopped,   // `stop` was set
};

struct WatchCallbacks {
  // Called with the socket while the watch blocks on it (-1 after), so
  // another thread can shut it down to stop the watch.
  std::function<void(int fd)> active_fd;
  // ADDED, MODIFIED, DELETED (not BOOKMARK, not ERROR).
  std::function<void(const std::string& type, const nlohmann::json& object)> on_event;
};

// Runs `list_and_watch` until `stop`: again at once when it returns true (a
// relist), after a backoff (1 s doubling to 30 s, logged with `what`) when it
// returns false with an error.
void listAndWatchUntilStopped(const std::atomic<bool>& stop, const std::string& what,
                              const std::function<bool(std::string* error)>& list_and_watch);

// Watches `collection` from `*version`, advancing it with every event and
// bookmark.
WatchEnd watchOnce(const http::HttpEndpoint& server, const std::string& collection,
                   std::string* version, const std::atomic<bool>& stop,
                   const WatchCallbacks& callbacks, std::string* error);

}  // namespace weft::control::kube
