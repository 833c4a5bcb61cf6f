#include "injector/webhook_server.h"

#include <signal.h>
#include <uv.h>

#include <cstdio>

#include "common/base/logging.h"
#include "injector/admission.h"

namespace weft::injector {

WebhookServer::WebhookServer(WebhookOptions options)
    : options_(std::move(options)),
      certificates_(dispatcher_, options_.cert_file, options_.key_file, options_.cert_poll_ms,
                    [this] { metrics_.certificateReloaded(); }) {}

WebhookServer::~WebhookServer() = default;

http::ServerResponse WebhookServer::handle(const http::ServerRequest& request) {
  std::string route = request.path.substr(0, request.path.find('?'));
  if (route == "/inject" || route == "/inject/opt-in") {
    if (request.method != "POST") return {405, "text/plain", "POST an AdmissionReview\n"};
    Scope scope = route == "/inject" ? Scope::kNamespaceEnabled : Scope::kOptInOnly;
    AdmissionAnswer answer = review(request.body, scope, options_.config, metrics_);
    return {answer.http_status, answer.content_type, answer.body};
  }
  if (route == "/ready") return {200, "text/plain", "LIVE\n"};
  if (route == "/metrics" || route == "/stats/prometheus") {
    return {200, "text/plain; version=0.0.4", metrics_.render()};
  }
  return {404, "text/plain", "not found: " + route + "\n"};
}

int WebhookServer::run() {
  std::string error;
  if (!certificates_.load(&error)) {
    std::fprintf(stderr, "weft-injector: %s\n", error.c_str());
    return 1;
  }
  certificates_.start();
  server_ = std::make_unique<http::HttpServer>(
      dispatcher_, [this](const http::ServerRequest& request) { return handle(request); });
  server_->setTlsContextProvider([this] { return certificates_.current(); });
  auto address = network::Address::fromIpPort(options_.address, options_.port);
  if (!address) {
    std::fprintf(stderr, "weft-injector: --address '%s' is not an IP address\n",
                 options_.address.c_str());
    return 2;
  }
  if (!server_->start(*address, &error)) {
    std::fprintf(stderr, "weft-injector: %s\n", error.c_str());
    return 1;
  }
  auto stop = [](uv_signal_t* h, int) { static_cast<event::Dispatcher*>(h->data)->exit(); };
  for (auto [handle, signum] : {std::pair{&sigterm_, SIGTERM}, std::pair{&sigint_, SIGINT}}) {
    uv_signal_init(dispatcher_.loop(), handle);
    handle->data = &dispatcher_;
    uv_signal_start(handle, stop, signum);
  }
  LOG_INFO("weft-injector: serving HTTPS on %s (proxy image %s)", address->toString().c_str(),
           options_.config.proxy_image.c_str());
  dispatcher_.run();
  server_->stop();
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  return 0;
}

}  // namespace weft::injector
