#pragma once

// A bidirectional gRPC stream over weft's own HTTP/2 client codec, as Envoy's
// own gRPC client does: the proxy needs no gRPC library (and none of its
// threads or memory) to talk xDS to the control plane.

#include <functional>
#include <memory>
#include <string>

#include "common/event/dispatcher.h"
#include "common/http/codec.h"
#include "common/network/connection.h"
#include "common/tls/handshake_observer.h"
#include "common/tls/tls_context.h"

namespace weft::grpc {

class GrpcStream : public network::ConnectionCallbacks,
                   public http::ClientConnectionCallbacks,
                   public http::StreamDecoder {
 public:
  using OnMessage = std::function<void(std::string_view message)>;
  // grpc-status (14 UNAVAILABLE for transport failures) and its message.
  using OnClose = std::function<void(int status, const std::string& message)>;

  GrpcStream(event::Dispatcher& dispatcher, network::Address server, std::string authority,
             std::string method_path, OnMessage on_message, OnClose on_close);
  ~GrpcStream() override;

  // Before start(): TLS to the server (its identity checked by `tls`), and
  // request metadata (e.g. "authorization").
  void setTls(tls::TlsContextPtr tls, const tls::HandshakeObserver* observer) {
    tls_ = std::move(tls);
    tls_observer_ = observer;
  }
  void addMetadata(std::string name, std::string value) {
    metadata_.emplace_back(std::move(name), std::move(value));
  }

  void start();
  // Queues one message (sent once connected).
  void send(std::string_view message);
  // Half-close: no more messages (a unary call after its one request).
  void closeSend();
  bool open() const { return !closed_; }

  // network::ConnectionCallbacks
  void onData(std::string_view data, bool end_stream) override;
  void onEvent(network::ConnectionEvent event) override;
  // http::ClientConnectionCallbacks
  void onStreamComplete() override {}
  void onProtocolError() override;
  // http::StreamDecoder (the response)
  void decodeHeaders(http::HeaderMap&& headers, bool end_stream) override;
  void decodeData(std::string_view data, bool end_stream) override;
  void decodeTrailers(http::HeaderMap&& trailers) override;
  void onResetStream(http::StreamResetReason reason) override;

 private:
  void close(int status, const std::string& message);
  void finishFromHeaders(const http::HeaderMap& headers);

  event::Dispatcher& dispatcher_;
  network::Address server_;
  std::string authority_;
  std::string method_path_;
  OnMessage on_message_;
  OnClose on_close_;
  std::unique_ptr<network::Connection> connection_;
  std::unique_ptr<http::ClientConnection> codec_;
  http::StreamEncoder* encoder_ = nullptr;
  tls::TlsContextPtr tls_;
  const tls::HandshakeObserver* tls_observer_ = nullptr;
  std::vector<std::pair<std::string, std::string>> metadata_;
  bool send_closed_ = false;
  std::string pending_;  // framed messages waiting for the connection
  std::string inbound_;  // partial gRPC frames
  bool closed_ = false;
};

}  // namespace weft::grpc
