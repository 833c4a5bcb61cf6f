#pragma once

// What an HTTP codec needs of the connection under it: a byte sink with
// back-pressure and an orderly close. network::Connection is the real one;
// the fuzz targets and codec tests use one in memory, so the codecs run
// without sockets (nghttp2's mem_recv / mem_send model, one level up).

#include <string_view>

#include "common/event/dispatcher.h"

namespace weft::network {

enum class CloseType { kFlushWrite, kNoFlush };

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  virtual void write(std::string_view data) = 0;
  virtual void close(CloseType type) = 0;
  // Nested: each disable needs a matching enable.
  virtual void readDisable(bool disable) = 0;
  // The peer's FIN is delivered as end_stream instead of closing (tunnels).
  virtual void enableHalfClose(bool enabled) = 0;
  // Half-close: FIN after everything queued is written.
  virtual void shutdownWrite() = 0;
  // Where the codec defers deletions of what callers up the stack still hold.
  virtual event::Dispatcher& dispatcher() = 0;
};

}  // namespace weft::network
