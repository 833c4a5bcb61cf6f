#pragma once

// The proxy's listening sockets: one per worker for each listener address
// (SO_REUSEPORT, so the kernel spreads connections over the workers). They
// belong to the process, not to a snapshot: a listener a new snapshot keeps
// keeps its sockets, so no connection attempt is refused during a push.

#include <map>
#include <string>
#include <vector>

#include "proxy/config/snapshot.h"

namespace weft::server {

class ListenerSockets {
 public:
  explicit ListenerSockets(int workers) : workers_(workers) {}
  ~ListenerSockets() { closeAll(); }
  ListenerSockets(const ListenerSockets&) = delete;
  ListenerSockets& operator=(const ListenerSockets&) = delete;

  // At start: binds every bound listener of `snapshot`, or returns false with
  // `error` naming the listener that could not be bound (nothing half-runs).
  bool bindAll(const config::Snapshot& snapshot, std::string* error);

  // For a new snapshot: keeps the sockets of addresses it shares with the
  // current one, binds those it adds (an address that cannot be bound is
  // logged and its listener gets no socket), closes those it drops. Returns,
  // per worker, one descriptor per listener of `snapshot` in its order (-1:
  // not bound), each a duplicate the worker's Listener owns and closes.
  std::vector<std::vector<int>> update(const config::Snapshot& snapshot);

  void closeAll();

 private:
  // One socket per worker for `listener`; empty (with `error`) on failure.
  std::vector<int> bindForWorkers(const config::ListenerConfig& listener, std::string* error) const;

  int workers_;
  std::map<std::string, std::vector<int>> by_address_;
};

}  // namespace weft::server
