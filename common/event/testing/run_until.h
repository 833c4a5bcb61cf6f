#pragma once

// For unit tests that drive a real dispatcher: run its loop (timers fire,
// deferred deletions happen) until a condition holds or a bound passes.

#include <cstdint>
#include <functional>

#include "common/event/dispatcher.h"

namespace weft::event::testing {

// Runs `dispatcher` until `done` holds (checked every millisecond), at most
// `max_ms`; returns whether `done` held.
inline bool runUntil(Dispatcher& dispatcher, const std::function<bool()>& done,
                     uint64_t max_ms = 2000) {
  uint64_t deadline = dispatcher.nowMs() + max_ms;
  std::function<void()> check;
  Timer poll(dispatcher, [&] { check(); });
  check = [&] {
    if (done() || dispatcher.nowMs() >= deadline) {
      dispatcher.exit();
    } else {
      poll.enableMs(1);
    }
  };
  poll.enableMs(0);
  dispatcher.run();
  return done();
}

}  // namespace weft::event::testing
