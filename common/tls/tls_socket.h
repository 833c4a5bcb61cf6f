#pragma once

// TLS for one connection: an SSL session over memory BIOs, so the
// connection keeps doing all socket I/O (batched writes, back-pressure) and
// TLS only transforms bytes.

#include <memory>
#include <string>

#include "common/network/transport_socket.h"
#include "common/tls/handshake_observer.h"
#include "common/tls/tls_context.h"

typedef struct bio_st BIO;

namespace weft::tls {

class TlsSocket : public network::TransportSocket {
 public:
  // `observer` (may be null) is told how the handshake ended.
  TlsSocket(TlsContextPtr context, const HandshakeObserver* observer);
  ~TlsSocket() override;

  void setCallbacks(network::TransportSocketCallbacks* callbacks) override {
    callbacks_ = callbacks;
  }
  void onConnected() override;
  void onRawData(std::string_view data) override;
  void write(std::string_view plaintext) override;
  void shutdown() override;
  size_t pendingBytes() const override { return pending_.size(); }
  bool handshakeComplete() const override { return handshake_complete_; }
  const network::TransportInfo& info() const override { return info_; }
  const std::string& failureReason() const override { return failure_reason_; }
  const std::string& failureDetail() const override { return failure_detail_; }

 private:
  void doHandshake();
  void readPlaintext();
  void writeEncrypted(std::string_view plaintext);
  void flushWire();
  void fail(std::string reason);
  std::string classifyFailure();

  TlsContextPtr context_;
  const HandshakeObserver* observer_;
  network::TransportSocketCallbacks* callbacks_ = nullptr;
  SSL* ssl_;
  BIO* rbio_;            // the peer's bytes, for OpenSSL to read
  BIO* wbio_;            // OpenSSL's bytes, for the wire
  std::string pending_;  // plaintext written before the handshake completed
  network::TransportInfo info_;
  std::string failure_reason_;
  std::string failure_detail_;
  bool handshake_complete_ = false;
  bool failed_ = false;
  bool shutdown_sent_ = false;
};

}  // namespace weft::tls
