#include "proxy/server/listener_sockets.h"

#include <unistd.h>

#include "common/base/logging.h"
#include "common/network/listener.h"

namespace weft::server {

namespace {
void closeEach(const std::vector<int>& fds) {
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
}
}  // namespace

std::vector<int> ListenerSockets::bindForWorkers(const config::ListenerConfig& listener,
                                                 std::string* error) const {
  std::vector<int> fds;
  for (int w = 0; w < workers_; ++w) {
    int fd = network::bindListeningSocket(listener.address, true, error);
    if (fd < 0) {
      closeEach(fds);
      return {};
    }
    fds.push_back(fd);
  }
  return fds;
}

bool ListenerSockets::bindAll(const config::Snapshot& snapshot, std::string* error) {
  for (const auto& listener : snapshot.listeners) {
    if (!listener.bind_to_port) continue;
    std::string key = listener.address.toString();
    if (by_address_.count(key)) continue;
    std::string bind_error;
    std::vector<int> fds = bindForWorkers(listener, &bind_error);
    if (fds.empty()) {
      *error = "listener '" + listener.name + "': " + bind_error;
      closeAll();
      return false;
    }
    by_address_[key] = std::move(fds);
  }
  return true;
}

std::vector<std::vector<int>> ListenerSockets::update(const config::Snapshot& snapshot) {
  std::map<std::string, std::vector<int>> next;
  std::vector<std::vector<int>> per_worker(workers_);
  for (const auto& listener : snapshot.listeners) {
    if (!listener.bind_to_port) {
      for (int w = 0; w < workers_; ++w) per_worker[w].push_back(-1);
      continue;
    }
    std::string key = listener.address.toString();
    auto it = by_address_.find(key);
    if (it != by_address_.end()) {
      next[key] = std::move(it->second);
      by_address_.erase(it);
    } else if (next.count(key) == 0) {
      std::string error;
      std::vector<int> fds = bindForWorkers(listener, &error);
      if (fds.empty()) {
        LOG_ERROR("listener '%s': %s", listener.name.c_str(), error.c_str());
        fds.assign(workers_, -1);
      }
      next[key] = std::move(fds);
    }
    const auto& fds = next[key];
    for (int w = 0; w < workers_; ++w) {
      // The originals stay here so an unchanged listener keeps its socket
      // across updates; each worker's Listener owns a duplicate.
      per_worker[w].push_back(fds[w] >= 0 ? dup(fds[w]) : -1);
    }
  }
  closeAll();
  by_address_ = std::move(next);
  return per_worker;
}

void ListenerSockets::closeAll() {
  for (const auto& [address, fds] : by_address_) closeEach(fds);
  by_address_.clear();
}

}  // namespace weft::server
