#pragma once

// Where access-log lines go: a file, stdout or stderr, written by a
// background thread. A worker's write() only appends to a bounded buffer
// under a mutex held for the copy; it never waits on I/O. When the buffer
// is full (the disk or the log collector is not keeping up) the line is
// dropped and counted (weft_access_log_dropped_total{path}).
//
// Sinks are runtime state: AccessLogSinks (owned by the server, outliving
// every snapshot) hands the same sink to every configuration naming the same
// path, so a push does not reopen or lose buffered lines.

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace prometheus {
class Counter;
}

namespace weft::access_log {

class AccessLogSink {
 public:
  virtual ~AccessLogSink() = default;
  virtual void write(std::string_view line) = 0;
};

// Opens sinks by path; "/dev/stdout" and "/dev/stderr" are the process's own.
class AccessLogSinkFactory {
 public:
  virtual ~AccessLogSinkFactory() = default;
  virtual std::shared_ptr<AccessLogSink> open(const std::string& path, std::string* error) = 0;
};

class AccessLogSinks : public AccessLogSinkFactory {
 public:
  // `dropped(path)`: the counter of lines dropped for that path.
  using DropCounter = std::function<prometheus::Counter*(const std::string& path)>;
  AccessLogSinks(DropCounter dropped, size_t buffer_limit_bytes = 4 << 20,
                 int flush_interval_ms = 100);
  ~AccessLogSinks() override;  // flushes what is buffered

  std::shared_ptr<AccessLogSink> open(const std::string& path, std::string* error) override;
  // Writes out everything buffered now (tests, drain).
  void flush();

 private:
  class File;
  void run();

  DropCounter dropped_;
  const size_t buffer_limit_;
  const int flush_interval_ms_;
  std::mutex mutex_;  // files_, stop_
  std::condition_variable wake_;
  std::map<std::string, std::shared_ptr<File>> files_;
  bool stop_ = false;
  std::thread flusher_;
};

}  // namespace weft::access_log
