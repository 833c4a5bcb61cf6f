#include "common/event/dispatcher.h"

#include <algorithm>

#include "common/base/assert.h"

namespace weft::event {

Timer::Timer(Dispatcher& dispatcher, std::function<void()> callback)
    : dispatcher_(dispatcher),
      handle_(dispatcher.takeTimerHandle()),
      callback_(std::move(callback)) {
  handle_->data = this;
}

Timer::~Timer() {
  uv_timer_stop(handle_);
  handle_->data = nullptr;
  dispatcher_.returnTimerHandle(handle_);
}

void Timer::enableMs(uint64_t timeout_ms) {
  due_ms_ = uv_now(handle_->loop) + timeout_ms;
  uv_timer_start(
      handle_,
      [](uv_timer_t* h) {
        auto* self = static_cast<Timer*>(h->data);
        if (self != nullptr) self->callback_();
      },
      timeout_ms, 0);
}

void Timer::armBy(uint64_t deadline_ms) {
  if (enabled() && due_ms_ <= deadline_ms) return;
  uint64_t now = uv_now(handle_->loop);
  enableMs(deadline_ms > now ? deadline_ms - now : 0);
}

void Timer::disable() { uv_timer_stop(handle_); }

bool Timer::enabled() const {
  return uv_is_active(reinterpret_cast<const uv_handle_t*>(handle_)) != 0;
}

Dispatcher::Dispatcher() {
  WEFT_ASSERT(uv_loop_init(&loop_) == 0);
  uv_async_init(&loop_, &async_, &Dispatcher::onAsync);
  async_.data = this;
  uv_check_init(&loop_, &check_);
  check_.data = this;
  uv_idle_init(&loop_, &idle_);
}

Dispatcher::~Dispatcher() {
  runPosted();
  for (auto& del : deferred_deletes_) del();
  deferred_deletes_.clear();
  for (uv_timer_t* handle : timer_pool_) {
    uv_close(reinterpret_cast<uv_handle_t*>(handle),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
  timer_pool_.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr);
  // Let every pending close callback run before the loop goes away.
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

void Dispatcher::run() {
  // A loop may be run again after an exit (tests drive one dispatcher in
  // steps); an exit() posted before this call still ends this run.
  exit_requested_ = false;
  while (!exit_requested_) {
    if (uv_run(&loop_, UV_RUN_ONCE) == 0 && exit_requested_) break;
  }
}

void Dispatcher::exit() {
  post([this] {
    exit_requested_ = true;
    uv_stop(&loop_);
  });
}

void Dispatcher::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    posted_.push_back(std::move(fn));
  }
  uv_async_send(&async_);
}

void Dispatcher::onAsync(uv_async_t* handle) {
  static_cast<Dispatcher*>(handle->data)->runPosted();
}

void Dispatcher::runPosted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

uv_timer_t* Dispatcher::takeTimerHandle() {
  if (timer_pool_.empty()) {
    auto* handle = new uv_timer_t;
    uv_timer_init(&loop_, handle);
    return handle;
  }
  uv_timer_t* handle = timer_pool_.back();
  timer_pool_.pop_back();
  return handle;
}

void Dispatcher::returnTimerHandle(uv_timer_t* handle) {
  // Bounded: past a burst, handles beyond what a busy worker keeps in use
  // are closed and freed.
  constexpr size_t kMaxPooledTimers = 4096;
  if (timer_pool_.size() < kMaxPooledTimers) {
    timer_pool_.push_back(handle);
    return;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(handle),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

void Dispatcher::deferOnce(DeferredWork* work) {
  deferred_.push_back(work);
  scheduleCheck();
}

void Dispatcher::cancelDeferred(DeferredWork* work) {
  std::replace(deferred_.begin(), deferred_.end(), work, static_cast<DeferredWork*>(nullptr));
  // Also from the round running now: one piece of work may end another.
  std::replace(running_.begin(), running_.end(), work, static_cast<DeferredWork*>(nullptr));
}

void Dispatcher::scheduleCheck() {
  if (check_active_) return;
  check_active_ = true;
  uv_check_start(&check_, &Dispatcher::onCheck);
  // Work deferred from a timer callback runs before poll; an active idle
  // handle makes that poll non-blocking so the check phase comes at once.
  uv_idle_start(&idle_, [](uv_idle_t*) {});
}

void Dispatcher::onCheck(uv_check_t* handle) {
  auto* self = static_cast<Dispatcher*>(handle->data);
  // Deferred work may defer more work (a flush that closes a connection).
  for (int round = 0; round < 8 && (!self->deferred_.empty() || !self->deferred_deletes_.empty());
       ++round) {
    self->running_.swap(self->deferred_);
    for (auto* w : self->running_) {
      if (w != nullptr) w->runDeferred();
    }
    self->running_.clear();
    self->deleting_.swap(self->deferred_deletes_);
    for (auto& del : self->deleting_) del();
    self->deleting_.clear();
  }
  if (self->deferred_.empty() && self->deferred_deletes_.empty()) {
    uv_check_stop(&self->check_);
    uv_idle_stop(&self->idle_);
    self->check_active_ = false;
  }
}

}  // namespace weft::event
