// weft-control: the control plane. See README.md.

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "controlplane/server/control_server.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  weft::control::ControlOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "weft-control: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--config-dir") {
      options.config_dir = value();
    } else if (arg == "--kubeconfig") {
      options.kubeconfig = value();
    } else if (arg == "--xds-address") {
      options.xds_address = value();
    } else if (arg == "--admin-address") {
      options.admin_address = value();
    } else if (arg == "--admin-port") {
      options.admin_port = static_cast<uint16_t>(std::atoi(value().c_str()));
    } else if (arg == "--debounce-ms") {
      options.debounce_ms = static_cast<uint64_t>(std::atoll(value().c_str()));
    } else if (arg == "--ca-address") {
      options.ca_address = value();
    } else if (arg == "--data-dir") {
      options.data_dir = value();
    } else if (arg == "--ca-secret") {
      options.ca_secret = value();
    } else if (arg == "--ca-cert") {
      options.ca_cert = value();
    } else if (arg == "--ca-key") {
      options.ca_key = value();
    } else if (arg == "--ca-chain") {
      options.ca_chain = value();
    } else if (arg == "--ca-extra-roots") {
      options.ca_extra_roots = value();
    } else if (arg == "--workload-tokens") {
      options.workload_tokens = value();
    } else {
      std::fprintf(stderr,
                   "usage: weft-control (--config-dir DIR | --kubeconfig PATH | in a pod)"
                   " [--xds-address HOST:PORT]"
                   " [--admin-address IP] [--admin-port N] [--debounce-ms N]\n"
                   "       [--ca-address HOST:PORT|''] [--data-dir DIR | --ca-secret NS/NAME |"
                   " --ca-cert F --ca-key F"
                   " [--ca-chain F]]\n"
                   "       [--ca-extra-roots F] [--workload-tokens F]\n");
      return 2;
    }
  }
  weft::control::ControlServer server(options);
  return server.run();
}
