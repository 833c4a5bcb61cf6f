#pragma once

// The admin HTTP endpoint (loopback by default): /ready, /stats/prometheus,
// /config_dump, /clusters, POST /drain, POST /quitquitquit. It runs on the
// main thread's dispatcher and reuses the HTTP/1 server codec.

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "proxy/event/dispatcher.h"
#include "proxy/network/listener.h"

namespace weft::admin {

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

// Answers one admin request; `method` is "GET", "POST", ...
using AdminHandler =
    std::function<AdminResponse(const std::string& method, const std::string& path)>;

class AdminServer {
 public:
  AdminServer(event::Dispatcher& dispatcher, AdminHandler handler);
  ~AdminServer();

  // Binds; returns false with `error` set when the address cannot be bound.
  bool start(const network::Address& address, std::string* error);
  void stop();

 private:
  class AdminConnection;
  void remove(AdminConnection* connection);

  event::Dispatcher& dispatcher_;
  AdminHandler handler_;
  std::unique_ptr<network::Listener> listener_;
  std::map<AdminConnection*, std::unique_ptr<AdminConnection>> connections_;
};

}  // namespace weft::admin
