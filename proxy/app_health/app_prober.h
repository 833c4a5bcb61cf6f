#pragma once

// The kubelet's probes, performed by the sidecar from inside the pod. Under
// STRICT mTLS a kubelet probe aimed at an app port would be refused (it has
// no client certificate), so the injector points it at the status port,
// /app-health/<container>/<kind>, and this performs the original against the
// app: an HTTP(S) GET with the probe's path, port and headers, a TCP connect,
// or a gRPC Health/Check, within the probe's timeout. It answers as the
// kubelet judges: an HTTP probe with the app's own status code (the kubelet
// counts 200-399 as success), the others with 200 or 503; no answer in time
// or no connection is a 503 with the reason in the body.

#include <map>
#include <memory>
#include <string>

#include "common/event/dispatcher.h"
#include "common/http/http_server.h"
#include "common/tls/tls_context.h"
#include "mesh/app_probes.h"

namespace weft::app_health {

class AppProber {
 public:
  // `pod_ip` is where the kubelet would have sent the probe ("" = 127.0.0.1).
  AppProber(event::Dispatcher& dispatcher, mesh::AppProbes probes, std::string pod_ip);
  ~AppProber();

  // True for the paths this answers (under /app-health/, known or not).
  static bool handles(const std::string& path);
  // Performs the probe registered at `path` (404 for an unknown one) and
  // answers through `respond`, on the dispatcher.
  void probe(const std::string& path, http::ServerResponder respond);

  class Call;

 private:
  void finish(Call* call, const std::string& path, http::ServerResponse response);

  event::Dispatcher& dispatcher_;
  mesh::AppProbes probes_;
  std::string pod_ip_;
  // HTTPS probes do not verify the app's certificate, as the kubelet does not.
  tls::TlsContextPtr https_;
  std::map<Call*, std::unique_ptr<Call>> calls_;
  // The last outcome per path: a change is logged, a repeat is not.
  std::map<std::string, bool> last_success_;
};

}  // namespace weft::app_health
