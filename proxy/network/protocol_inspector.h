#pragma once

// Reads a new connection's first bytes to tell HTTP/1.x, HTTP/2 (its
// preface) and anything else apart, as Envoy's http_inspector does. Gives up
// after a short timeout and calls it "not HTTP", so server-speaks-first
// protocols (MySQL, SMTP, PostgreSQL) are never left waiting for the client.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/event/dispatcher.h"
#include "common/network/connection.h"

namespace weft::network {

// "http/1.1", "http/1.0", "h2c", "tls" (a ClientHello), or "" (none of
// those / undecided).
enum class InspectResult { kNeedMoreData, kDone };
InspectResult inspectHttp(std::string_view first_bytes, std::string* protocol);

// The ALPN protocols a TLS ClientHello offers (RFC 7301), as Envoy's
// tls_inspector gives them to filter-chain matching: what a sidecar's
// inbound chooses its chain by (h2 from a client sidecar's HTTP cluster,
// weft-peer-exchange/1 from its TCP one). kNeedMoreData until the whole
// first record is in (up to 16 KiB); a malformed hello gives none.
InspectResult clientHelloAlpn(std::string_view first_bytes, std::vector<std::string>* protocols);

// What the first bytes said, for filter-chain selection.
struct DetectedProtocols {
  bool tls = false;
  // Plaintext: the one detected ("http/1.1", "http/1.0", "h2c"), or none.
  // TLS: the ClientHello's ALPN offers.
  std::vector<std::string> application;
  // Why detection ended: the protocol, "tls", "other" (bytes that are none
  // of those) or "timeout" (no decisive bytes in time: server-speaks-first).
  std::string result;
};

class ProtocolInspector : public ConnectionCallbacks {
 public:
  // `done` receives the connection, the detected protocol and the bytes
  // already read (to be replayed); it is never called if the client hangs up.
  using Done = std::function<void(std::unique_ptr<Connection>, DetectedProtocols protocols,
                                  std::string initial_data)>;
  using Closed = std::function<void()>;

  ProtocolInspector(event::Dispatcher& dispatcher, std::unique_ptr<Connection> connection,
                    uint64_t timeout_ms, Done done, Closed closed);
  ~ProtocolInspector() override;

  void onData(std::string_view data, bool end_stream) override;
  void onEvent(ConnectionEvent event) override;

 private:
  void finish(DetectedProtocols protocols);
  void onTimeout();

  std::unique_ptr<Connection> connection_;
  event::Timer timer_;
  Done done_;
  Closed closed_;
  std::string buffer_;
  bool finished_ = false;
};

}  // namespace weft::network
