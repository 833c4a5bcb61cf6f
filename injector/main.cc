// weft-injector: the mutating admission webhook. See README.md.

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/base/file.h"
#include "injector/webhook_server.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  weft::injector::WebhookOptions options;
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "weft-injector: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--address") {
      options.address = value();
    } else if (arg == "--port") {
      options.port = static_cast<uint16_t>(std::atoi(value().c_str()));
    } else if (arg == "--tls-cert-file") {
      options.cert_file = value();
    } else if (arg == "--tls-key-file") {
      options.key_file = value();
    } else if (arg == "--cert-poll-ms") {
      options.cert_poll_ms = static_cast<uint64_t>(std::atoll(value().c_str()));
    } else if (arg == "--config") {
      config_path = value();
    } else {
      std::fprintf(stderr,
                   "usage: weft-injector --tls-cert-file F --tls-key-file F [--config FILE]\n"
                   "       [--address IP] [--port N] [--cert-poll-ms N]\n");
      return 2;
    }
  }
  if (options.cert_file.empty() || options.key_file.empty()) {
    std::fprintf(stderr, "weft-injector: --tls-cert-file and --tls-key-file are required\n");
    return 2;
  }
  if (!config_path.empty()) {
    std::string text, error;
    if (!weft::common::readFile(config_path, &text)) {
      std::fprintf(stderr, "weft-injector: cannot read --config %s\n", config_path.c_str());
      return 2;
    }
    if (!weft::injector::parseInjectorConfig(text, &options.config, &error)) {
      std::fprintf(stderr, "weft-injector: %s: %s\n", config_path.c_str(), error.c_str());
      return 2;
    }
  }
  weft::injector::WebhookServer server(std::move(options));
  return server.run();
}
