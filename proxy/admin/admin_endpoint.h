#pragma once

// The proxy's admin endpoint (loopback by default): /ready,
// /stats/prometheus, /config_dump, /clusters, POST /drain, POST
// /quitquitquit; and the status port, its read-only subset (/ready and
// metrics) on all addresses for the kubelet and Prometheus. Both are served
// by http::HttpServer on the main thread.

#include <string>

#include "common/http/http_server.h"

namespace weft::admin {

// What the endpoints report on and act on (the server implements it).
class AdminState {
 public:
  virtual ~AdminState() = default;
  // The initial configuration is in service (xDS: the first push applied).
  virtual bool ready() const = 0;
  virtual bool draining() const = 0;
  virtual std::string metrics() const = 0;     // Prometheus text
  virtual std::string configDump() const = 0;  // JSON
  virtual std::string clusters() const = 0;    // Envoy's /clusters text
  // Drain then exit; called on the main thread, acted on after the response.
  virtual void requestDrain() = 0;
};

http::ServerResponse adminResponse(AdminState& state, const std::string& method,
                                   const std::string& path);
http::ServerResponse statusResponse(AdminState& state, const std::string& method,
                                    const std::string& path);

}  // namespace weft::admin
