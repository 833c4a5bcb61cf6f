#pragma once

// The Resolver on c-ares (Debian's libc-ares), driven by the dispatcher's
// libuv loop: c-ares tells which sockets it wants watched (uv_poll each)
// and when its next timeout is (one timer). Servers and search domains
// come from /etc/resolv.conf, names from /etc/hosts first, as for any
// program in the pod (so a Service's short name resolves as the app's would).

#include <memory>

#include "common/event/dispatcher.h"
#include "proxy/dns/resolver.h"

namespace weft::dns {

// nullptr with `error` set when c-ares cannot start (no resolv.conf is not
// that: c-ares then asks 127.0.0.1).
std::unique_ptr<Resolver> makeCaresResolver(event::Dispatcher& dispatcher, std::string* error);

}  // namespace weft::dns
