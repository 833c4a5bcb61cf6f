#include "proxy/server/malloc_tuning.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace weft::server {

namespace {
constexpr char kTunable[] = "glibc.malloc.tcache_count";
constexpr char kSetting[] = "glibc.malloc.tcache_count=256";
}  // namespace

void tuneMallocOrReexec(char** argv) {
  const char* current = std::getenv("GLIBC_TUNABLES");
  std::string value = current != nullptr ? current : "";
  // Set already (by us before the exec, or by whoever started the proxy:
  // theirs wins).
  if (value.find(kTunable) != std::string::npos) return;
  value += std::string(value.empty() ? "" : ":") + kSetting;
  setenv("GLIBC_TUNABLES", value.c_str(), 1);
  execv("/proc/self/exe", argv);
  // No /proc (or no exec): glibc's defaults, which only cost CPU.
}

}  // namespace weft::server
