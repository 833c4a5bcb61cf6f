#pragma once

// WEFT_EXIT_WITH_APP: in a Job's pod on a cluster without native sidecars the
// proxy is a regular container, and the pod would never complete while it
// runs. With a shared process namespace the proxy can see the application's
// processes in /proc; once they have run and are all gone, it drains and exits.
//
// Application processes are every process but PID 1 (the pause container),
// this one, zombies (empty cmdline) and weft-proxy's own helpers (such as the
// postStart `weft-proxy wait`), which run before the app starts.

#include <string>

namespace weft::server {

class AppWatcher {
 public:
  enum class State { kWaitingForApp, kAppRunning, kAppGone };

  AppWatcher(std::string proc_root, int self_pid)
      : proc_root_(std::move(proc_root)), self_pid_(self_pid) {}

  // Scans `proc_root` once.
  State poll();
  int lastCount() const { return last_count_; }

 private:
  int countApplicationProcesses() const;

  std::string proc_root_;
  int self_pid_;
  bool seen_app_ = false;
  int last_count_ = 0;
};

}  // namespace weft::server
