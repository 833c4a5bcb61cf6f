#pragma once

// The kubelet probes the injector took over (WEFT_APP_PROBES): the injector
// rewrites an app container's httpGet / tcpSocket / gRPC probe to an HTTP GET
// of the sidecar's status port at /app-health/<container>/<kind>, and hands
// the original here, so the sidecar can perform it against the app from
// inside the pod, where STRICT mTLS does not stand in the way. Written by
// weft-injector, read by `weft-proxy sidecar`: one definition of the format.
//
//   {"/app-health/web/readiness": {"httpGet": {"path": "/healthz", "port": 8080,
//     "scheme": "HTTP", "host": "", "httpHeaders": [{"name": "x", "value": "y"}]},
//     "timeoutSeconds": 1},
//    "/app-health/web/liveness": {"tcpSocket": {"port": 8080}, "timeoutSeconds": 1},
//    "/app-health/grpc/startup": {"grpc": {"port": 9090, "service": ""}, "timeoutSeconds": 1}}
//
// Ports are numbers: the injector resolves a named port against the
// container's ports before it writes this.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft::mesh {

inline constexpr char kAppHealthPathPrefix[] = "/app-health/";

struct AppProbe {
  enum class Kind { kHttpGet, kTcpSocket, kGrpc };
  Kind kind = Kind::kHttpGet;
  uint16_t port = 0;
  uint32_t timeout_seconds = 1;  // the kubelet's default
  // httpGet
  std::string path = "/";
  bool https = false;
  std::string host;  // "" = the pod's IP, as the kubelet does
  std::vector<std::pair<std::string, std::string>> headers;
  // grpc: the service name in grpc.health.v1.HealthCheckRequest
  std::string grpc_service;

  bool operator==(const AppProbe&) const = default;
};

// By status-port path (/app-health/<container>/<readiness|liveness|startup>).
using AppProbes = std::map<std::string, AppProbe>;

// Its status-port path for `kind` = "readiness", "liveness" or "startup".
std::string appHealthPath(const std::string& container, const std::string& kind);

std::string appProbesToJson(const AppProbes& probes);
// False with `error` naming the entry and field that is wrong.
bool parseAppProbes(std::string_view json, AppProbes* probes, std::string* error);

}  // namespace weft::mesh
