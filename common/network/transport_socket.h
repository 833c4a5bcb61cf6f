#pragma once

// What sits between a Connection's socket and its owner: nothing (plaintext)
// or TLS. The connection hands it the bytes it reads and the bytes its owner
// writes; it hands back what goes on the wire and what the owner reads.
// An interface so the network layer stays free of OpenSSL's headers.

#include <cstddef>
#include <string>
#include <string_view>

namespace weft::network {

class TransportSocketCallbacks {
 public:
  virtual ~TransportSocketCallbacks() = default;
  // Bytes for the wire.
  virtual void writeRaw(std::string_view bytes) = 0;
  // Plaintext for the owner; false once the connection closed under the
  // call (stop processing).
  virtual bool deliver(std::string_view plaintext) = 0;
  virtual void onHandshakeComplete() = 0;
  virtual void onHandshakeFailed() = 0;
  // The peer ended the session (TLS close_notify) or broke it mid-stream.
  virtual void onTransportClosed() = 0;
};

// The peer and session as the handshake established them.
struct TransportInfo {
  std::string peer_identity;   // the peer certificate's URI SAN (SPIFFE ID), if any
  std::string local_identity;  // ours
  std::string peer_cert_hash;  // SHA-256 of the peer certificate, hex
  std::string alpn;            // negotiated application protocol, if any
  bool peer_certificate = false;
};

class TransportSocket {
 public:
  virtual ~TransportSocket() = default;
  virtual void setCallbacks(TransportSocketCallbacks* callbacks) = 0;
  // The TCP connection is up: a client sends its hello.
  virtual void onConnected() = 0;
  virtual void onRawData(std::string_view data) = 0;
  // Plaintext from the owner; held until the handshake completes.
  virtual void write(std::string_view plaintext) = 0;
  // Orderly end of our side (TLS close_notify).
  virtual void shutdown() = 0;
  virtual size_t pendingBytes() const = 0;
  virtual bool handshakeComplete() const = 0;
  virtual const TransportInfo& info() const = 0;
  // Why the handshake failed, for metrics: a short snake_case reason.
  virtual const std::string& failureReason() const = 0;
  virtual const std::string& failureDetail() const = 0;
};

}  // namespace weft::network
