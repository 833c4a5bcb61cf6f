#pragma once

// A Dispatcher owns one libuv loop and everything that runs on it. Each worker
// thread has its own; objects created on a dispatcher are used only from its
// thread, so the data path needs no locks. Other threads reach a dispatcher
// through post().

#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace weft::event {

class Dispatcher;

// A one-shot or re-armable timer bound to a dispatcher. Its libuv handle
// comes from (and goes back to) the dispatcher's pool: streams make and
// drop timers by the thousand per second, and a handle closed and freed per
// timer costs a malloc, a free and a trip through the loop's closing phase.
class Timer {
 public:
  Timer(Dispatcher& dispatcher, std::function<void()> callback);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void enableMs(uint64_t timeout_ms);
  // A deadline (loop clock, ms) the callback must run by. Armed already for
  // that time or sooner: nothing is done (the callback, run early, finds
  // its deadline not reached and arms again). Deadlines that only move
  // later, as idle timeouts do on every byte, so cost no timer operation.
  void armBy(uint64_t deadline_ms);
  void disable();
  bool enabled() const;

 private:
  Dispatcher& dispatcher_;
  uv_timer_t* handle_;
  std::function<void()> callback_;
  uint64_t due_ms_ = 0;  // when it fires, while enabled
};

// Something that wants a callback once the current loop iteration's I/O has
// been processed (used to batch writes: many small writes, one syscall).
class DeferredWork {
 public:
  virtual ~DeferredWork() = default;
  virtual void runDeferred() = 0;
};

class Dispatcher {
 public:
  Dispatcher();
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  uv_loop_t* loop() { return &loop_; }

  // Runs until exit() is called and every handle is closed.
  void run();
  // Thread-safe: the loop stops after the current iteration.
  void exit();
  // Thread-safe: runs `fn` on this dispatcher's thread.
  void post(std::function<void()> fn);

  // Runs `work` after this iteration's I/O callbacks. Same thread only. A
  // registered object must call cancelDeferred() before it dies.
  void deferOnce(DeferredWork* work);
  void cancelDeferred(DeferredWork* work);

  // Deletes `object` on a later iteration, so callers up the stack that still
  // hold a reference stay valid (Envoy's deferredDelete).
  template <class T>
  void deferDelete(std::unique_ptr<T> object) {
    auto* raw = object.release();
    deferred_deletes_.push_back([raw] { delete raw; });
    scheduleCheck();
  }

  // Milliseconds since the loop's epoch, cached once per iteration.
  uint64_t nowMs() { return uv_now(&loop_); }

 private:
  friend class Timer;
  // Initialised, stopped timer handles for Timers to take and give back.
  uv_timer_t* takeTimerHandle();
  void returnTimerHandle(uv_timer_t* handle);

  static void onAsync(uv_async_t* handle);
  static void onCheck(uv_check_t* handle);
  void scheduleCheck();
  void runPosted();

  uv_loop_t loop_;
  uv_async_t async_;
  uv_check_t check_;
  uv_idle_t idle_;  // keeps poll from blocking while deferred work waits
  bool check_active_ = false;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  bool exit_requested_ = false;
  std::vector<DeferredWork*> deferred_;
  std::vector<std::function<void()>> deferred_deletes_;
  // The previous round's vectors, kept for their capacity: running deferred
  // work allocates nothing.
  std::vector<DeferredWork*> running_;
  std::vector<std::function<void()>> deleting_;
  std::vector<uv_timer_t*> timer_pool_;
};

}  // namespace weft::event
