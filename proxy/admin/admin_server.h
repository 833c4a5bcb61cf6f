#pragma once

// The admin HTTP endpoint (loopback by default): /ready, /stats/prometheus,
// /config_dump, /clusters, POST /drain, POST /quitquitquit. It runs on the
// main thread's dispatcher and reuses the HTTP/1 server codec. The injector
// serves its webhook with it too (request bodies, TLS).

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "proxy/event/dispatcher.h"
#include "proxy/network/listener.h"
#include "proxy/tls/tls_context.h"

namespace weft::admin {

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

// Answers one admin request; `method` is "GET", "POST", ...
using AdminHandler =
    std::function<AdminResponse(const std::string& method, const std::string& path)>;

struct AdminRequest {
  std::string method;
  std::string path;
  std::string content_type;
  std::string body;
};
using AdminRequestHandler = std::function<AdminResponse(const AdminRequest& request)>;

// The TLS context for each new connection (nullptr: plaintext), asked per
// connection so a reloaded certificate applies to the next one.
using TlsContextProvider = std::function<tls::TlsContextPtr()>;

class AdminServer {
 public:
  AdminServer(event::Dispatcher& dispatcher, AdminHandler handler);
  // Also for requests with bodies (up to kMaxBodyBytes; more gets 413).
  AdminServer(event::Dispatcher& dispatcher, AdminRequestHandler handler);
  ~AdminServer();

  static constexpr size_t kMaxBodyBytes = 8 << 20;

  void setTlsContextProvider(TlsContextProvider provider) { tls_ = std::move(provider); }

  // Binds; returns false with `error` set when the address cannot be bound.
  bool start(const network::Address& address, std::string* error);
  void stop();

 private:
  class AdminConnection;
  void remove(AdminConnection* connection);

  event::Dispatcher& dispatcher_;
  AdminRequestHandler handler_;
  TlsContextProvider tls_;
  std::unique_ptr<network::Listener> listener_;
  std::map<AdminConnection*, std::unique_ptr<AdminConnection>> connections_;
};

}  // namespace weft::admin
