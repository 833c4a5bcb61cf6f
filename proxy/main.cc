// weft-proxy: the sidecar data-plane proxy. See README.md.

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "proxy/server/server.h"

namespace {
void usage() {
  std::fprintf(stderr,
               "usage: weft-proxy -c BOOTSTRAP [--concurrency N] [--drain-time-s S]\n"
               "  -c, --config-path, --bootstrap FILE   Envoy-shaped bootstrap (YAML or JSON)\n"
               "  --concurrency N                       worker threads (default: cores)\n"
               "  --drain-time-s S                      drain timeout on SIGTERM (default 5)\n");
}
}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  weft::server::Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "weft-proxy: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "-c" || arg == "--config-path" || arg == "--bootstrap") {
      options.bootstrap_path = value();
    } else if (arg == "--concurrency") {
      options.concurrency = std::atoi(value().c_str());
    } else if (arg == "--drain-time-s") {
      options.drain_timeout_ms = static_cast<uint64_t>(std::atof(value().c_str()) * 1000);
    } else if (arg == "-h" || arg == "--help") {
      usage();
      return 0;
    } else {
      std::fprintf(stderr, "weft-proxy: unknown argument '%s'\n", arg.c_str());
      usage();
      return 2;
    }
  }
  if (options.bootstrap_path.empty()) {
    usage();
    return 2;
  }
  weft::server::Server server(options);
  return server.run();
}
