// weft-proxy: the sidecar data-plane proxy. See README.md.

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "proxy/intercept/iptables_rules.h"
#include "proxy/server/server.h"

namespace {
void usage() {
  std::fprintf(stderr,
               "usage: weft-proxy -c BOOTSTRAP [--concurrency N] [--drain-time-s S]\n"
               "       weft-proxy init ...    install a pod's interception rules (see init -h)\n"
               "  -c, --config-path, --bootstrap FILE   Envoy-shaped bootstrap (YAML or JSON)\n"
               "  --concurrency N                       worker threads (default: cores)\n"
               "  --drain-time-s S                      drain timeout on SIGTERM (default 5)\n"
               "  --ca-address IP:PORT                  the mesh CA (weft-control) for the\n"
               "                                        workload certificate (with xDS)\n"
               "  --ca-root-cert FILE                   root the CA's certificate chains to\n"
               "  --ca-token-file FILE                  bearer token proving this workload\n"
               "  --ca-identity URI                     the CA's SPIFFE ID (default\n"
               "                                        "
               "spiffe://cluster.local/ns/weft-system/sa/weft-control)\n"
               "  --trust-domain TD                     (default cluster.local)\n"
               "  --certificate-lifetime-s N            ask for this lifetime (default: mesh's)\n");
}
}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc > 1 && std::string(argv[1]) == "init") return weft::intercept::runInit(argc, argv, 2);
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
    } else if (arg == "--ca-address") {
      options.ca_address = value();
    } else if (arg == "--ca-root-cert") {
      options.ca_root_cert = value();
    } else if (arg == "--ca-token-file") {
      options.ca_token_file = value();
    } else if (arg == "--ca-identity") {
      options.ca_identity = value();
    } else if (arg == "--trust-domain") {
      options.trust_domain = value();
    } else if (arg == "--certificate-lifetime-s") {
      options.certificate_lifetime_s = std::atoll(value().c_str());
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
