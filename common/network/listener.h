#pragma once

// A listening socket on one dispatcher. Each worker binds its own socket to
// the same address with SO_REUSEPORT, so the kernel spreads accepted
// connections across workers with no shared accept queue.

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "common/event/dispatcher.h"
#include "common/network/address.h"
#include "common/network/connection.h"

namespace weft::network {

// Creates a bound, listening socket; returns the fd, or -1 with `error` set.
int bindListeningSocket(const Address& address, bool reuse_port, std::string* error);

class Listener {
 public:
  using AcceptCallback = std::function<void(std::unique_ptr<Connection>)>;

  // Takes ownership of `fd` (from bindListeningSocket).
  Listener(event::Dispatcher& dispatcher, int fd, AcceptCallback on_accept);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  bool ok() const { return ok_; }

 private:
  static void onConnection(uv_stream_t* server, int status);

  event::Dispatcher& dispatcher_;
  uv_tcp_t* handle_;
  AcceptCallback on_accept_;
  bool ok_ = false;
};

}  // namespace weft::network
