#pragma once

// TLS contexts shared by configuration: a push that repeats a transport
// socket's configuration (most pushes: an endpoint moved, a route changed)
// gets the context already in service instead of a new SSL_CTX with its
// certificate, key and CA store parsed again. With pushes every few hundred
// milliseconds and a context per cluster, rebuilding them all kept a proxy's
// main thread busy for seconds under ASan, long enough to miss its own
// certificate renewal. Entries are weak: a context lives as long as some
// configuration uses it.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/tls/tls_context.h"

namespace weft::tls {

class TlsContextCache {
 public:
  // The context for `config`: the live one made from an identical config,
  // else a new one (nullptr with `error`, as TlsContext::create).
  TlsContextPtr getOrCreate(TlsContextConfig config, std::string* error);
  size_t liveEntries();

 private:
  static std::string keyOf(const TlsContextConfig& config);

  std::mutex mutex_;  // translation runs on the main thread; the bootstrap may not
  std::map<std::string, std::weak_ptr<const TlsContext>> contexts_;
};

}  // namespace weft::tls
