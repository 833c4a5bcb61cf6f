#include "injector/probe_rewrite.h"

#include "injector/pod_json.h"
#include "injector/sidecar_templates.h"

namespace weft::injector {

using json = nlohmann::json;

namespace {

constexpr std::pair<const char*, const char*> kProbeKinds[] = {
    {"readinessProbe", "readiness"}, {"livenessProbe", "liveness"}, {"startupProbe", "startup"}};

// A probe's port: a number, or the name of one of the container's ports.
// 0 when it resolves to nothing (the kubelet would fail that probe anyway).
uint16_t resolvePort(const json& container, const json& port) {
  if (port.is_number_integer()) {
    int64_t value = port.get<int64_t>();
    return value >= 1 && value <= 65535 ? static_cast<uint16_t>(value) : 0;
  }
  if (!port.is_string()) return 0;
  const json& ports = field(container, "ports");
  if (!ports.is_array()) return 0;
  for (const auto& declared : ports) {
    if (field(declared, "name") == port && field(declared, "containerPort").is_number_integer()) {
      return resolvePort(json::object(), field(declared, "containerPort"));
    }
  }
  return 0;
}

// The original probe as the proxy performs it, or false to leave it alone.
bool appProbeOf(const json& container, const json& probe, uint16_t status_port,
                mesh::AppProbe* out) {
  if (const json& timeout = field(probe, "timeoutSeconds");
      timeout.is_number_integer() && timeout.get<int64_t>() >= 1) {
    out->timeout_seconds = static_cast<uint32_t>(std::min<int64_t>(timeout.get<int64_t>(), 3600));
  }
  const json* action = nullptr;
  if (const json& http = field(probe, "httpGet"); http.is_object()) {
    action = &http;
    out->kind = mesh::AppProbe::Kind::kHttpGet;
    // A probe of another host never reaches this pod's interception.
    if (const json& host = field(http, "host");
        host.is_string() && !host.get<std::string>().empty()) {
      return false;
    }
    if (const json& path = field(http, "path"); path.is_string()) out->path = path;
    if (out->path.empty() || out->path[0] != '/') out->path = "/" + out->path;
    out->https = field(http, "scheme") == "HTTPS";
    if (const json& headers = field(http, "httpHeaders"); headers.is_array()) {
      for (const auto& header : headers) {
        const json& name = field(header, "name");
        const json& value = field(header, "value");
        if (name.is_string() && !name.get<std::string>().empty() && value.is_string()) {
          out->headers.emplace_back(name, value);
        }
      }
    }
  } else if (const json& tcp = field(probe, "tcpSocket"); tcp.is_object()) {
    action = &tcp;
    out->kind = mesh::AppProbe::Kind::kTcpSocket;
    if (const json& host = field(tcp, "host");
        host.is_string() && !host.get<std::string>().empty()) {
      return false;
    }
  } else if (const json& grpc = field(probe, "grpc"); grpc.is_object()) {
    action = &grpc;
    out->kind = mesh::AppProbe::Kind::kGrpc;
    if (const json& service = field(grpc, "service"); service.is_string()) {
      out->grpc_service = service;
    }
  } else {
    return false;  // exec: runs in the container, no network involved
  }
  out->port = resolvePort(container, field(*action, "port"));
  return out->port != 0 && out->port != status_port;
}

void rewriteContainer(const json& container, const std::string& pointer, uint16_t status_port,
                      ProbeRewrite* rewrite) {
  const json& name = field(container, "name");
  if (!name.is_string()) return;
  for (const auto& [key, kind] : kProbeKinds) {
    const json& probe = field(container, key);
    mesh::AppProbe app_probe;
    if (!probe.is_object() || !appProbeOf(container, probe, status_port, &app_probe)) continue;
    std::string path = mesh::appHealthPath(name, kind);
    json replaced = probe;
    replaced.erase("httpGet");
    replaced.erase("tcpSocket");
    replaced.erase("grpc");
    replaced["httpGet"] = {{"path", path}, {"port", status_port}, {"scheme", "HTTP"}};
    rewrite->patch.push_back(
        {{"op", "replace"}, {"path", pointer + "/" + key}, {"value", std::move(replaced)}});
    rewrite->probes[path] = std::move(app_probe);
  }
}

}  // namespace

ProbeRewrite rewriteProbes(const json& pod, const InjectorConfig& config) {
  ProbeRewrite rewrite;
  std::string opt = annotation(pod, kRewriteProbesAnnotation);
  if (!opt.empty() && opt != "true" && opt != "false") {
    throw InvalidAnnotation{std::string("annotation ") + kRewriteProbesAnnotation + ": '" + opt +
                            "' is not \"true\" or \"false\""};
  }
  if (opt == "false" || (opt.empty() && !config.rewrite_app_probes)) return rewrite;
  const json& spec = field(pod, "spec");
  const json& containers = field(spec, "containers");
  if (containers.is_array()) {
    for (size_t i = 0; i < containers.size(); ++i) {
      rewriteContainer(containers[i], "/spec/containers/" + std::to_string(i), config.status_port,
                       &rewrite);
    }
  }
  // The app's own native sidecars (restartPolicy: Always) carry probes too;
  // other init containers cannot.
  const json& inits = field(spec, "initContainers");
  if (inits.is_array()) {
    for (size_t i = 0; i < inits.size(); ++i) {
      if (field(inits[i], "restartPolicy") != "Always") continue;
      rewriteContainer(inits[i], "/spec/initContainers/" + std::to_string(i), config.status_port,
                       &rewrite);
    }
  }
  return rewrite;
}

}  // namespace weft::injector
