#pragma once

// A small HTTP/1.1 server (optionally TLS) for the endpoints weft's binaries
// serve besides traffic: the proxy's admin and status ports, weft-control's
// admin port, weft-injector's webhook. It runs on one dispatcher, answers
// each request with a handler's whole response and reuses the HTTP/1 server
// codec. Not a traffic path: no streaming, no HTTP/2.

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/event/dispatcher.h"
#include "common/network/listener.h"
#include "common/tls/tls_context.h"

namespace weft::http {

struct ServerResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

// Answers one admin request; `method` is "GET", "POST", ...
using ServerHandler =
    std::function<ServerResponse(const std::string& method, const std::string& path)>;

struct ServerRequest {
  std::string method;
  std::string path;
  std::string content_type;
  std::string body;
};
using ServerRequestHandler = std::function<ServerResponse(const ServerRequest& request)>;
// A handler that answers later (after I/O of its own, e.g. the proxy's app
// probes): it calls `respond` once, on the server's dispatcher. A response
// for a connection that has closed meanwhile goes nowhere.
using ServerResponder = std::function<void(ServerResponse response)>;
using AsyncServerRequestHandler =
    std::function<void(const ServerRequest& request, ServerResponder respond)>;

// The TLS context for each new connection (nullptr: plaintext), asked per
// connection so a reloaded certificate applies to the next one.
using TlsContextProvider = std::function<tls::TlsContextPtr()>;

class HttpServer {
 public:
  HttpServer(event::Dispatcher& dispatcher, ServerHandler handler);
  // Also for requests with bodies (up to kMaxBodyBytes; more gets 413).
  HttpServer(event::Dispatcher& dispatcher, ServerRequestHandler handler);
  HttpServer(event::Dispatcher& dispatcher, AsyncServerRequestHandler handler);
  ~HttpServer();

  static constexpr size_t kMaxBodyBytes = 8 << 20;

  void setTlsContextProvider(TlsContextProvider provider) { tls_ = std::move(provider); }

  // Binds; returns false with `error` set when the address cannot be bound.
  bool start(const network::Address& address, std::string* error);
  void stop();

 private:
  class Session;
  void remove(Session* connection);

  event::Dispatcher& dispatcher_;
  AsyncServerRequestHandler handler_;
  TlsContextProvider tls_;
  std::unique_ptr<network::Listener> listener_;
  std::map<Session*, std::unique_ptr<Session>> connections_;
};

}  // namespace weft::http
