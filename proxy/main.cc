// weft-proxy: the sidecar data-plane proxy. See README.md.

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <google/protobuf/util/json_util.h>

#include "proxy/intercept/iptables_rules.h"
#include "proxy/server/malloc_tuning.h"
#include "proxy/server/server.h"
#include "proxy/sidecar/sidecar_environment.h"
#include "proxy/sidecar/wait_command.h"

namespace {
void usage() {
  std::fprintf(stderr,
               "usage: weft-proxy -c BOOTSTRAP [--concurrency N] [--drain-time-s S]\n"
               "       weft-proxy sidecar [--print-bootstrap]   run as the injector's sidecar,\n"
               "                              configured by WEFT_* variables (see README)\n"
               "       weft-proxy init ...    install a pod's interception rules (see init -h)\n"
               "       weft-proxy wait ...    block until a proxy is ready (see wait -h)\n"
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
// `weft-proxy sidecar`: options and bootstrap from the environment.
int runSidecar(int argc, char** argv) {
  bool print = false;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--print-bootstrap") {
      print = true;
    } else {
      std::fprintf(stderr, "weft-proxy sidecar: unknown argument '%s'\n", arg.c_str());
      return 2;
    }
  }
  weft::server::Options options;
  std::string error;
  if (!weft::sidecar::optionsFromEnvironment(weft::sidecar::processEnvironment(),
                                             weft::sidecar::systemResolver(30000), &options,
                                             &error)) {
    std::fprintf(stderr, "weft-proxy sidecar: %s\n", error.c_str());
    return 1;
  }
  if (print) {
    std::string json;
    google::protobuf::util::JsonPrintOptions style;
    style.add_whitespace = true;
    style.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(*options.bootstrap, &json, style);
    std::printf("%s", json.c_str());
    return 0;
  }
  weft::server::Server server(options);
  return server.run();
}
}  // namespace

int main(int argc, char** argv) {
  weft::server::tuneMallocOrReexec(argv);  // before anything: it may exec
  signal(SIGPIPE, SIG_IGN);
  if (argc > 1 && std::string(argv[1]) == "init") return weft::intercept::runInit(argc, argv, 2);
  if (argc > 1 && std::string(argv[1]) == "wait") return weft::sidecar::runWait(argc, argv, 2);
  if (argc > 1 && std::string(argv[1]) == "sidecar") return runSidecar(argc, argv);
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
