#pragma once

// One HTTP/1.1 request on a connection of its own, on an event loop, with
// weft's HTTP/1 client codec, plain or over TLS: what the proxy's OTLP/HTTP
// exporter POSTs a batch with and its app prober GETs a health check with.
// The outcome is the response status, or 0 with a reason when there was none;
// the response body is not kept.

#include <functional>
#include <memory>
#include <string>

#include "common/event/dispatcher.h"
#include "common/http/codec.h"
#include "common/network/connection.h"
#include "common/tls/tls_context.h"

namespace weft::http {

class OneShotRequest : public network::ConnectionCallbacks,
                       public http::ClientConnectionCallbacks,
                       public http::StreamDecoder {
 public:
  using OnDone = std::function<void(int status, const std::string& reason)>;
  // `headers` carry :method, :path and :authority; a body gets its
  // content-length. `on_done` runs once, unless this is destroyed first.
  OneShotRequest(event::Dispatcher& dispatcher, network::Address server, tls::TlsContextPtr tls,
                 http::HeaderMap headers, std::string body, OnDone on_done);
  ~OneShotRequest() override;
  void start();

  // network::ConnectionCallbacks
  void onData(std::string_view data, bool end_stream) override;
  void onEvent(network::ConnectionEvent event) override;
  // http::ClientConnectionCallbacks
  void onStreamComplete() override {}
  void onProtocolError() override { finish(0, "HTTP protocol error"); }
  // http::StreamDecoder (the response; its body is not needed)
  void decodeHeaders(http::HeaderMap&& headers, bool end_stream) override;
  void decodeData(std::string_view, bool end_stream) override;
  void decodeTrailers(http::HeaderMap&&) override { finish(status_, ""); }
  void onResetStream(http::StreamResetReason reason) override;

 private:
  void finish(int status, const std::string& reason);

  event::Dispatcher& dispatcher_;
  network::Address server_;
  tls::TlsContextPtr tls_;
  http::HeaderMap headers_;
  std::string body_;
  OnDone on_done_;
  std::unique_ptr<network::Connection> connection_;
  std::unique_ptr<http::ClientConnection> codec_;
  int status_ = 0;
  bool done_ = false;
};

}  // namespace weft::http
