#pragma once

// A ByteStream in memory: what a codec writes is collected, closes and
// read-disables are recorded. For driving codecs without sockets (fuzz
// targets, codec tests).

#include <string>

#include "common/network/byte_stream.h"

namespace weft::network {

class MemoryByteStream : public ByteStream {
 public:
  explicit MemoryByteStream(event::Dispatcher& dispatcher) : dispatcher_(dispatcher) {}

  void write(std::string_view data) override {
    if (!closed_) written_.append(data);
  }
  void close(CloseType) override { closed_ = true; }
  void readDisable(bool disable) override { read_disabled_ += disable ? 1 : -1; }
  void enableHalfClose(bool enabled) override { half_close_ = enabled; }
  void shutdownWrite() override { write_shut_ = true; }
  event::Dispatcher& dispatcher() override { return dispatcher_; }

  // Takes what was written since the last call.
  std::string take() {
    std::string out;
    out.swap(written_);
    return out;
  }
  bool closed() const { return closed_; }
  int readDisabled() const { return read_disabled_; }

 private:
  event::Dispatcher& dispatcher_;
  std::string written_;
  bool closed_ = false;
  bool half_close_ = false;
  bool write_shut_ = false;
  int read_disabled_ = 0;
};

}  // namespace weft::network
