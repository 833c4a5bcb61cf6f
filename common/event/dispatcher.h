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

// A one-shot or re-armable timer bound to a dispatcher.
class Timer {
 public:
  Timer(Dispatcher& dispatcher, std::function<void()> callback);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void enableMs(uint64_t timeout_ms);
  void disable();
  bool enabled() const;

 private:
  uv_timer_t* handle_;  // freed in the close callback, after the loop lets go
  std::function<void()> callback_;
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
};

}  // namespace weft::event
