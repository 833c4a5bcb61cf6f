#include "proxy/server/app_watcher.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace weft::server {
namespace {

// A stand-in /proc: one directory per PID with its NUL-separated cmdline.
class FakeProc {
 public:
  FakeProc() {
    char pattern[] = "/tmp/weft-proc-XXXXXX";
    root_ = ::mkdtemp(pattern);
  }
  ~FakeProc() { std::filesystem::remove_all(root_); }
  void add(int pid, const std::string& cmdline) {
    std::filesystem::create_directories(root_ + "/" + std::to_string(pid));
    std::ofstream(root_ + "/" + std::to_string(pid) + "/cmdline", std::ios::binary) << cmdline;
  }
  void remove(int pid) { std::filesystem::remove_all(root_ + "/" + std::to_string(pid)); }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

using State = AppWatcher::State;

TEST(AppWatcher, WaitsForTheAppThenReportsItGone) {
  FakeProc proc;
  proc.add(1, std::string("/pause\0", 7));
  proc.add(7, std::string("/usr/local/bin/weft-proxy\0sidecar\0", 34));
  std::filesystem::create_directories(proc.root() + "/self");  // not a PID
  AppWatcher watcher(proc.root(), 7);
  EXPECT_EQ(watcher.poll(), State::kWaitingForApp);
  // The postStart hook is weft-proxy's own: it does not count as the app.
  proc.add(12, std::string("/usr/local/bin/weft-proxy\0wait\0--port\0"
                           "15020\0",
                           38));
  EXPECT_EQ(watcher.poll(), State::kWaitingForApp);
  proc.remove(12);
  proc.add(20, std::string("python3\0job.py\0", 15));
  proc.add(21, std::string("sh\0-c\0work\0", 11));
  EXPECT_EQ(watcher.poll(), State::kAppRunning);
  EXPECT_EQ(watcher.lastCount(), 2);
  proc.remove(21);
  EXPECT_EQ(watcher.poll(), State::kAppRunning);
  proc.add(20, "");  // a zombie: exited, not yet reaped
  EXPECT_EQ(watcher.poll(), State::kAppGone);
  proc.remove(20);
  EXPECT_EQ(watcher.poll(), State::kAppGone);
}

TEST(AppWatcher, RealProcSeesThisTestAsAnApplication) {
  // In the test's own PID namespace there are other processes than PID 1 and us.
  AppWatcher watcher("/proc", 0);
  EXPECT_EQ(watcher.poll(), State::kAppRunning);
  EXPECT_GE(watcher.lastCount(), 1);
}

}  // namespace
}  // namespace weft::server
