#include "proxy/access_log/access_log_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "proxy/stats/stats.h"

namespace weft::access_log {

class AccessLogSinks::File : public AccessLogSink {
 public:
  File(int fd, bool owned, size_t limit, prometheus::Counter* dropped,
       std::condition_variable* wake)
      : fd_(fd), owned_(owned), limit_(limit), dropped_(dropped), wake_(wake) {}
  ~File() override {
    flush();
    if (owned_) ::close(fd_);
  }

  void write(std::string_view line) override {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (buffer_.size() + line.size() > limit_) {
        if (dropped_ != nullptr) stats::inc(dropped_);
        return;
      }
      buffer_.append(line);
      wake = buffer_.size() >= kWakeBytes;
    }
    if (wake) wake_->notify_one();
  }

  // Swaps the buffer out under the lock, writes it without.
  void flush() {
    std::lock_guard<std::mutex> io(io_mutex_);  // batches reach the file in order
    std::string out;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      out.swap(buffer_);
    }
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::write(fd_, out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // a broken pipe or a full disk loses this batch, not the process
      done += static_cast<size_t>(n);
    }
  }

 private:
  static constexpr size_t kWakeBytes = 64 * 1024;
  const int fd_;
  const bool owned_;
  const size_t limit_;
  prometheus::Counter* const dropped_;
  std::condition_variable* const wake_;
  std::mutex mutex_;  // buffer_: held for a copy, never for I/O
  std::string buffer_;
  std::mutex io_mutex_;
};

AccessLogSinks::AccessLogSinks(DropCounter dropped, size_t buffer_limit_bytes,
                               int flush_interval_ms)
    : dropped_(std::move(dropped)),
      buffer_limit_(buffer_limit_bytes),
      flush_interval_ms_(flush_interval_ms),
      flusher_([this] { run(); }) {}

AccessLogSinks::~AccessLogSinks() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  flusher_.join();
  flush();
}

std::shared_ptr<AccessLogSink> AccessLogSinks::open(const std::string& path, std::string* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = files_.find(path);
  if (it != files_.end()) return it->second;
  int fd = -1;
  bool owned = false;
  if (path == "/dev/stdout") {
    fd = STDOUT_FILENO;
  } else if (path == "/dev/stderr") {
    fd = STDERR_FILENO;
  } else {
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      *error = "cannot open '" + path + "' for appending: " + std::strerror(errno);
      return nullptr;
    }
    owned = true;
  }
  auto file =
      std::make_shared<File>(fd, owned, buffer_limit_, dropped_ ? dropped_(path) : nullptr, &wake_);
  files_[path] = file;
  return file;
}

void AccessLogSinks::flush() {
  std::vector<std::shared_ptr<File>> files;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [path, file] : files_) files.push_back(file);
  }
  for (auto& file : files) file->flush();
}

void AccessLogSinks::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::milliseconds(flush_interval_ms_));
    lock.unlock();
    flush();
    lock.lock();
  }
}

}  // namespace weft::access_log
