#pragma once

// Reads a new connection's first bytes to tell HTTP/1.x, HTTP/2 (its
// preface) and anything else apart, as Envoy's http_inspector does. Gives up
// after a short timeout and calls it "not HTTP", so server-speaks-first
// protocols (MySQL, SMTP, PostgreSQL) are never left waiting for the client.

#include <functional>
#include <memory>
#include <string>

#include "common/event/dispatcher.h"
#include "common/network/connection.h"

namespace weft::network {

// "http/1.1", "http/1.0", "h2c", "tls" (a ClientHello), or "" (none of
// those / undecided).
enum class InspectResult { kNeedMoreData, kDone };
InspectResult inspectHttp(std::string_view first_bytes, std::string* protocol);

class ProtocolInspector : public ConnectionCallbacks {
 public:
  // `done` receives the connection, the detected protocol and the bytes
  // already read (to be replayed); it is never called if the client hangs up.
  using Done = std::function<void(std::unique_ptr<Connection>, std::string protocol,
                                  std::string initial_data)>;
  using Closed = std::function<void()>;

  ProtocolInspector(event::Dispatcher& dispatcher, std::unique_ptr<Connection> connection,
                    uint64_t timeout_ms, Done done, Closed closed);
  ~ProtocolInspector() override;

  void onData(std::string_view data, bool end_stream) override;
  void onEvent(ConnectionEvent event) override;

 private:
  void finish(std::string protocol);

  std::unique_ptr<Connection> connection_;
  event::Timer timer_;
  Done done_;
  Closed closed_;
  std::string buffer_;
  bool finished_ = false;
};

}  // namespace weft::network
