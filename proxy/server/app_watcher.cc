#include "proxy/server/app_watcher.h"

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace weft::server {

namespace {
// argv[0]'s base name, from /proc/PID/cmdline (NUL-separated, world-readable).
std::string programName(const std::string& cmdline_path, bool* readable) {
  std::ifstream in(cmdline_path, std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  *readable = static_cast<bool>(in) || in.eof();
  std::string argv0 = cmdline.substr(0, cmdline.find('\0'));
  size_t slash = argv0.rfind('/');
  return slash == std::string::npos ? argv0 : argv0.substr(slash + 1);
}
}  // namespace

int AppWatcher::countApplicationProcesses() const {
  DIR* dir = ::opendir(proc_root_.c_str());
  if (dir == nullptr) return 0;
  int count = 0;
  while (dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid == 1 || pid == self_pid_) continue;
    bool readable = false;
    std::string name = programName(proc_root_ + "/" + entry->d_name + "/cmdline", &readable);
    if (!readable) continue;  // exited while scanning
    if (name.empty() || name == "weft-proxy") continue;
    ++count;
  }
  ::closedir(dir);
  return count;
}

AppWatcher::State AppWatcher::poll() {
  last_count_ = countApplicationProcesses();
  if (last_count_ > 0) {
    seen_app_ = true;
    return State::kAppRunning;
  }
  return seen_app_ ? State::kAppGone : State::kWaitingForApp;
}

}  // namespace weft::server
