#pragma once

// weft-injector's HTTPS endpoint:
//   POST /inject          pods of namespaces labelled weft.dev/inject=enabled
//   POST /inject/opt-in   pods elsewhere (injected only when annotated "true")
//   GET  /ready, /metrics
// on one event loop; SIGTERM/SIGINT stop it.

#include <uv.h>

#include <memory>
#include <string>

#include "common/event/dispatcher.h"
#include "common/http/http_server.h"
#include "injector/certificate_reloader.h"
#include "injector/injector_config.h"
#include "injector/injector_metrics.h"

namespace weft::injector {

struct WebhookOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 9443;
  std::string cert_file;
  std::string key_file;
  uint64_t cert_poll_ms = 1000;
  InjectorConfig config;
};

class WebhookServer {
 public:
  explicit WebhookServer(WebhookOptions options);
  ~WebhookServer();
  // Serves until a signal; the exit code.
  int run();

 private:
  http::ServerResponse handle(const http::ServerRequest& request);

  WebhookOptions options_;
  event::Dispatcher dispatcher_;
  InjectorMetrics metrics_;
  CertificateReloader certificates_;
  std::unique_ptr<http::HttpServer> server_;
  uv_signal_t sigterm_;
  uv_signal_t sigint_;
};

}  // namespace weft::injector
