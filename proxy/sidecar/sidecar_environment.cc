#include "proxy/sidecar/sidecar_environment.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "mesh/app_probes.h"
#include "mesh/node_metadata.h"
#include "mesh/sidecar_env.h"
#include "mesh/xds_types.h"
#include "proxy/translate/bootstrap_loader.h"
#include "proxy/workload/workload_metadata.h"
#include "security/spiffe_id.h"

extern char** environ;

namespace weft::sidecar {

namespace sidecar_env = mesh::sidecar_env;
namespace node_metadata = mesh::node_metadata;

namespace {

constexpr char kDefaultRootCert[] = "/var/run/secrets/weft/ca/root-cert.pem";
constexpr char kDefaultTokenFile[] = "/var/run/secrets/weft/tokens/weft-token";

std::string get(const Environment& env, const std::string& name, const std::string& fallback) {
  auto it = env.find(name);
  return it == env.end() || it->second.empty() ? fallback : it->second;
}

bool port(const Environment& env, const std::string& name, int fallback, int* out,
          std::string* error) {
  std::string text = get(env, name, std::to_string(fallback));
  char* end = nullptr;
  long value = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || value < 1 || value > 65535) {
    *error = name + "='" + text + "' is not a port (1-65535)";
    return false;
  }
  *out = static_cast<int>(value);
  return true;
}

// "HOST:PORT" (or "[V6]:PORT") -> resolved IP and port.
bool hostPort(const Environment& env, const std::string& name, const Resolver& resolve,
              std::string* ip, int* port_out, std::string* error) {
  std::string text = get(env, name, "");
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    *error = name + "='" + text + "' is not HOST:PORT";
    return false;
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  Environment one{{name, text.substr(colon + 1)}};
  if (!port(one, name, 0, port_out, error)) {
    *error = name + "='" + text + "': the port is not 1-65535";
    return false;
  }
  std::string why;
  auto resolved = resolve(host, &why);
  if (!resolved) {
    *error = name + "='" + text + "': cannot resolve '" + host + "': " + why;
    return false;
  }
  *ip = *resolved;
  return true;
}

nlohmann::json socketAddress(const std::string& ip, int port) {
  return {{"socket_address", {{"address", ip}, {"port_value", port}}}};
}

}  // namespace

Environment processEnvironment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry = *e;
    size_t eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

Resolver systemResolver(int timeout_ms) {
  return [timeout_ms](const std::string& host, std::string* error) -> std::optional<std::string> {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (bool first = true;; first = false) {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* result = nullptr;
      int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &result);
      if (rc == 0 && result != nullptr) {
        char text[INET6_ADDRSTRLEN] = {};
        const void* addr =
            result->ai_family == AF_INET
                ? static_cast<const void*>(
                      &reinterpret_cast<const sockaddr_in*>(result->ai_addr)->sin_addr)
                : static_cast<const void*>(
                      &reinterpret_cast<const sockaddr_in6*>(result->ai_addr)->sin6_addr);
        ::inet_ntop(result->ai_family, addr, text, sizeof(text));
        ::freeaddrinfo(result);
        return std::string(text);
      }
      *error = ::gai_strerror(rc);
      // A name that cannot exist fails at once; a lookup that may succeed later is retried.
      if (rc != EAI_AGAIN && rc != EAI_NONAME && rc != EAI_FAIL) return std::nullopt;
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      if (first) {
        std::fprintf(stderr,
                     "weft-proxy sidecar: cannot resolve '%s' yet (%s); retrying for %d s\n",
                     host.c_str(), error->c_str(), timeout_ms / 1000);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  };
}

bool optionsFromEnvironment(const Environment& env, const Resolver& resolve,
                            server::Options* options, std::string* error) {
  std::string pod = get(env, sidecar_env::kPodName, "");
  std::string ns = get(env, sidecar_env::kPodNamespace, "");
  if (pod.empty() || ns.empty()) {
    *error = std::string(pod.empty() ? sidecar_env::kPodName : sidecar_env::kPodNamespace) +
             " is not set (the injector sets it from the downward API)";
    return false;
  }
  std::string service_account = get(env, sidecar_env::kServiceAccount, "default");
  int outbound = 0, inbound = 0, admin = 0, status = 0;
  if (!port(env, sidecar_env::kOutboundPort, sidecar_env::kDefaultOutboundPort, &outbound, error) ||
      !port(env, sidecar_env::kInboundPort, sidecar_env::kDefaultInboundPort, &inbound, error) ||
      !port(env, sidecar_env::kAdminPort, sidecar_env::kDefaultAdminPort, &admin, error) ||
      !port(env, sidecar_env::kStatusPort, sidecar_env::kDefaultStatusPort, &status, error)) {
    return false;
  }
  if (get(env, sidecar_env::kXdsAddress, "").empty()) {
    *error = "WEFT_XDS_ADDRESS is not set (HOST:PORT of weft-control's xDS)";
    return false;
  }
  std::string xds_ip;
  int xds_port = 0;
  if (!hostPort(env, sidecar_env::kXdsAddress, resolve, &xds_ip, &xds_port, error)) return false;

  std::string interception = get(env, sidecar_env::kInterception, "iptables");
  if (interception != "iptables" && interception != "none") {
    *error = "WEFT_INTERCEPTION='" + interception + "' is not iptables or none";
    return false;
  }
  nlohmann::json metadata = {{node_metadata::kServiceAccount, service_account},
                             {node_metadata::kOutboundPort, std::to_string(outbound)},
                             {node_metadata::kInboundPort, std::to_string(inbound)}};
  // "none": no weft-init rules; the app calls 127.0.0.1:OUTBOUND_PORT itself.
  if (interception == "iptables") metadata[node_metadata::kInterception] = "iptables";
  std::string pod_ip = get(env, sidecar_env::kPodIp, "");
  if (!pod_ip.empty()) metadata[node_metadata::kPodIp] = pod_ip;
  // Who the workload is, for Istio's metric labels; the node carries it so
  // the control plane sees it too.
  const std::pair<const char*, const char*> kWorkloadKeys[] = {
      {sidecar_env::kWorkloadName, node_metadata::kWorkloadName},
      {sidecar_env::kApp, node_metadata::kApp},
      {sidecar_env::kVersion, node_metadata::kVersion},
      {sidecar_env::kCanonicalService, node_metadata::kCanonicalService},
      {sidecar_env::kCanonicalRevision, node_metadata::kCanonicalRevision},
      {sidecar_env::kClusterId, node_metadata::kClusterId}};
  for (const auto& [variable, key] : kWorkloadKeys) {
    std::string value = get(env, variable, "");
    if (value.empty()) continue;
    if (!workload::validMetadataValue(value)) {
      *error = std::string(variable) + "='" + value.substr(0, 64) +
               "' is not a label value (at most 253 of A-Z a-z 0-9 . _ - / :)";
      return false;
    }
    metadata[key] = value;
  }
  nlohmann::json bootstrap = {
      {"node", {{"id", pod + "." + ns}, {"cluster", service_account}, {"metadata", metadata}}},
      {"admin", {{"address", socketAddress("127.0.0.1", admin)}}},
      {"dynamic_resources",
       {{"ads_config",
         {{"api_type", "GRPC"},
          {"transport_api_version", "V3"},
          {"grpc_services", {{{"envoy_grpc", {{"cluster_name", "xds_cluster"}}}}}}}},
        {"cds_config", {{"ads", nlohmann::json::object()}, {"resource_api_version", "V3"}}},
        {"lds_config", {{"ads", nlohmann::json::object()}, {"resource_api_version", "V3"}}}}},
      {"static_resources",
       {{"clusters",
         {{{"name", "xds_cluster"},
           {"type", "STATIC"},
           {"connect_timeout", "1s"},
           {"load_assignment",
            {{"cluster_name", "xds_cluster"},
             {"endpoints",
              {{{"lb_endpoints",
                 {{{"endpoint", {{"address", socketAddress(xds_ip, xds_port)}}}}}}}}}}},
           {"typed_extension_protocol_options",
            {{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
              {{"@type", mesh::kHttpProtocolOptionsType},
               {"explicit_http_config",
                {{"http2_protocol_options", nlohmann::json::object()}}}}}}}}}}}}};
  envoy::config::bootstrap::v3::Bootstrap proto;
  if (!translate::parseBootstrap(bootstrap.dump(), "the sidecar bootstrap", &proto, error)) {
    return false;
  }
  options->bootstrap = std::move(proto);

  if (!get(env, sidecar_env::kCaAddress, "").empty()) {
    std::string ca_ip;
    int ca_port = 0;
    if (!hostPort(env, sidecar_env::kCaAddress, resolve, &ca_ip, &ca_port, error)) return false;
    options->ca_address = (ca_ip.find(':') != std::string::npos ? "[" + ca_ip + "]" : ca_ip) + ":" +
                          std::to_string(ca_port);
    options->ca_root_cert = get(env, sidecar_env::kCaRootCert, kDefaultRootCert);
    options->ca_token_file = get(env, sidecar_env::kCaTokenFile, kDefaultTokenFile);
    options->ca_identity = get(env, sidecar_env::kCaIdentity, options->ca_identity);
  }
  options->trust_domain = get(env, sidecar_env::kTrustDomain, options->trust_domain);
  std::string why;
  if (!security::parseWorkloadId(
          security::SpiffeId{options->trust_domain, ns, service_account}.uri(), &why)) {
    *error = "WEFT_TRUST_DOMAIN / WEFT_POD_NAMESPACE / WEFT_SERVICE_ACCOUNT: " + why;
    return false;
  }
  std::string concurrency = get(env, sidecar_env::kConcurrency, "2");
  options->concurrency = std::atoi(concurrency.c_str());
  if (options->concurrency < 1 || options->concurrency > 256) {
    *error = "WEFT_CONCURRENCY='" + concurrency + "' is not a worker count (1-256)";
    return false;
  }
  std::string drain = get(env, sidecar_env::kDrainTimeS, "5");
  char* end = nullptr;
  double drain_s = std::strtod(drain.c_str(), &end);
  if (end == drain.c_str() || *end != '\0' || drain_s < 0 || drain_s > 3600) {
    *error = "WEFT_DRAIN_TIME_S='" + drain + "' is not a number of seconds (0-3600)";
    return false;
  }
  options->drain_timeout_ms = static_cast<uint64_t>(drain_s * 1000);
  options->status_port = status;
  std::string exit_with_app = get(env, sidecar_env::kExitWithApp, "false");
  if (exit_with_app != "true" && exit_with_app != "false") {
    *error = "WEFT_EXIT_WITH_APP='" + exit_with_app + "' is not true or false";
    return false;
  }
  if (exit_with_app == "true") options->exit_with_app_proc = "/proc";
  if (std::string probes = get(env, sidecar_env::kAppProbes, ""); !probes.empty()) {
    std::string why;
    if (!mesh::parseAppProbes(probes, &options->app_probes, &why)) {
      *error = std::string(sidecar_env::kAppProbes) + ": " + why;
      return false;
    }
  }
  options->pod_ip = get(env, sidecar_env::kPodIp, "");
  options->bootstrap_path = "(sidecar environment)";
  return true;
}

}  // namespace weft::sidecar
