#pragma once

// What a TLS socket reports about its handshake. The proxy counts these in
// its metrics; the TLS library itself knows nothing about metrics, so the
// control plane and the injector can use it without them.

#include <string>

namespace weft::tls {

class HandshakeObserver {
 public:
  virtual ~HandshakeObserver() = default;
  virtual void onHandshakeComplete(bool as_server) const = 0;
  // `reason` is TlsSocket::failureReason(): no_client_certificate,
  // certificate_expired, unknown_ca, identity_mismatch, not_tls, peer_alert or
  // handshake_error.
  virtual void onHandshakeFailed(bool as_server, const std::string& reason) const = 0;
};

}  // namespace weft::tls
