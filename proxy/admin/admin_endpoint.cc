#include "proxy/admin/admin_endpoint.h"

namespace weft::admin {

http::ServerResponse adminResponse(AdminState& state, const std::string& method,
                                   const std::string& path) {
  http::ServerResponse response;
  std::string route = path.substr(0, path.find('?'));
  if (route == "/ready") {
    if (!state.ready()) {
      response.status = 503;
      response.body = "PRE_INITIALIZING\n";
    } else if (state.draining()) {
      response.status = 503;
      response.body = "DRAINING\n";
    } else {
      response.body = "LIVE\n";
    }
  } else if (route == "/stats/prometheus" || route == "/metrics") {
    response.content_type = "text/plain; version=0.0.4";
    response.body = state.metrics();
  } else if (route == "/config_dump") {
    response.content_type = "application/json";
    response.body = state.configDump();
  } else if (route == "/clusters") {
    response.body = state.clusters();
  } else if (route == "/drain" || route == "/drain_listeners" || route == "/quitquitquit" ||
             route == "/healthcheck/fail") {
    if (method != "POST") {
      response.status = 405;
      response.body = "use POST\n";
    } else {
      response.body = "OK\n";
      state.requestDrain();
    }
  } else {
    response.status = 404;
    response.body =
        "admin endpoints: /ready /stats/prometheus /config_dump /clusters "
        "POST /drain POST /quitquitquit\n";
  }
  return response;
}

http::ServerResponse statusResponse(AdminState& state, const std::string& method,
                                    const std::string& path) {
  std::string route = path.substr(0, path.find('?'));
  if (route == "/ready" || route == "/stats/prometheus" || route == "/metrics") {
    if (method == "GET" || method == "HEAD") return adminResponse(state, "GET", path);
    http::ServerResponse refused;
    refused.status = 405;
    refused.body = "the status port is read-only\n";
    return refused;
  }
  http::ServerResponse missing;
  missing.status = 404;
  missing.body = "the status port serves /ready and /stats/prometheus\n";
  return missing;
}

}  // namespace weft::admin
