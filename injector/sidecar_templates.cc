#include "injector/sidecar_templates.h"

#include <re2/re2.h>

#include <set>
#include <vector>

#include "injector/injected_names.h"
#include "injector/pod_json.h"
#include "mesh/names.h"
#include "mesh/sidecar_env.h"

namespace weft::injector {

using json = nlohmann::json;

namespace {

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

std::string portList(const json& pod, const std::string& key, std::vector<uint16_t> base) {
  for (const auto& item : splitList(annotation(pod, key))) {
    char* end = nullptr;
    long port = std::strtol(item.c_str(), &end, 10);
    if (*end != '\0' || port < 1 || port > 65535) {
      throw InvalidAnnotation{"annotation " + key + ": '" + item + "' is not a port (1-65535)"};
    }
    base.push_back(static_cast<uint16_t>(port));
  }
  std::set<uint16_t> unique(base.begin(), base.end());
  std::string out;
  for (uint16_t port : unique) out += (out.empty() ? "" : ",") + std::to_string(port);
  return out;
}

bool validCidr(const std::string& cidr) {
  static const RE2 v4(R"((\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2}))");
  static const RE2 v6(R"([0-9a-fA-F:]*:[0-9a-fA-F:]*/(\d{1,3}))");
  int a = 0, b = 0, c = 0, d = 0, prefix = 0;
  if (RE2::FullMatch(cidr, v4, &a, &b, &c, &d, &prefix)) {
    return a <= 255 && b <= 255 && c <= 255 && d <= 255 && prefix <= 32;
  }
  return RE2::FullMatch(cidr, v6, &prefix) && prefix <= 128;
}

std::string cidrList(const json& pod, const std::string& key, std::vector<std::string> base) {
  for (const auto& item : splitList(annotation(pod, key))) {
    if (!validCidr(item)) {
      throw InvalidAnnotation{"annotation " + key + ": '" + item + "' is not a CIDR"};
    }
    base.push_back(item);
  }
  std::string out;
  for (const auto& cidr : base) out += (out.empty() ? "" : ",") + cidr;
  return out;
}

// A Kubernetes resource quantity, e.g. 100m, 0.5, 128Mi, 1G.
std::string quantity(const json& pod, const std::string& key, const std::string& fallback) {
  std::string value = annotation(pod, key);
  if (value.empty()) return fallback;
  static const RE2 re(R"([0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)");
  if (!RE2::FullMatch(value, re)) {
    throw InvalidAnnotation{"annotation " + key + ": '" + value +
                            "' is not a resource quantity (e.g. 100m, 128Mi)"};
  }
  return value;
}

json fieldEnv(const char* name, const char* path) {
  return {{"name", name}, {"valueFrom", {{"fieldRef", {{"fieldPath", path}}}}}};
}

json valueEnv(const char* name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}

}  // namespace

json resources(const json& pod, const InjectorConfig& config) {
  json requests = json::object();
  json limits = json::object();
  // A request given by annotation drops the configured limit of that
  // resource unless the pod sets that limit too: a request above the
  // default limit would make the pod invalid.
  auto set = [&](const char* resource, const std::string& request_key, const std::string& limit_key,
                 const std::string& request_default, const std::string& limit_default) {
    std::string request = quantity(pod, request_key, request_default);
    std::string limit = quantity(
        pod, limit_key, annotation(pod, request_key).empty() ? limit_default : std::string());
    if (!request.empty()) requests[resource] = request;
    if (!limit.empty()) limits[resource] = limit;
  };
  set("cpu", "weft.dev/proxy-cpu", "weft.dev/proxy-cpu-limit", config.requests.cpu,
      config.limits.cpu);
  set("memory", "weft.dev/proxy-memory", "weft.dev/proxy-memory-limit", config.requests.memory,
      config.limits.memory);
  json out = json::object();
  if (!requests.empty()) out["requests"] = requests;
  if (!limits.empty()) out["limits"] = limits;
  return out;
}

json initContainer(const json& pod, const InjectorConfig& config, const json& resources) {
  std::vector<uint16_t> inbound = config.exclude_inbound_ports;
  inbound.push_back(config.status_port);  // kubelet probes and Prometheus reach it directly
  json args = json::array({"init", "--proxy-uid", std::to_string(config.proxy_uid),
                           "--outbound-port", std::to_string(config.outbound_port),
                           "--inbound-port", std::to_string(config.inbound_port)});
  std::string in_ports = portList(pod, "weft.dev/exclude-inbound-ports", inbound);
  std::string out_ports =
      portList(pod, "weft.dev/exclude-outbound-ports", config.exclude_outbound_ports);
  std::string out_cidrs =
      cidrList(pod, "weft.dev/exclude-outbound-cidrs", config.exclude_outbound_cidrs);
  if (!in_ports.empty()) args.insert(args.end(), {"--exclude-inbound-ports", in_ports});
  if (!out_ports.empty()) args.insert(args.end(), {"--exclude-outbound-ports", out_ports});
  if (!out_cidrs.empty()) args.insert(args.end(), {"--exclude-outbound-cidrs", out_cidrs});
  return {
      {"name", kInitName},
      {"image", config.proxy_image},
      {"imagePullPolicy", config.image_pull_policy},
      {"args", args},
      {"resources", resources},
      // iptables needs root, NET_ADMIN and NET_RAW, and a writable /run for
      // its lock; nothing else in the pod gets them.
      {"securityContext",
       {{"runAsUser", 0},
        {"runAsGroup", 0},
        {"runAsNonRoot", false},
        {"privileged", false},
        {"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", false},
        {"capabilities", {{"add", {"NET_ADMIN", "NET_RAW"}}, {"drop", {"ALL"}}}}}},
  };
}

json proxyContainer(const InjectorConfig& config, const json& resources, bool native,
                    bool exit_with_app,
                    const std::vector<std::pair<std::string, std::string>>& workload_env) {
  json env = json::array({
      fieldEnv(mesh::sidecar_env::kPodName, "metadata.name"),
      fieldEnv(mesh::sidecar_env::kPodNamespace, "metadata.namespace"),
      fieldEnv(mesh::sidecar_env::kPodIp, "status.podIP"),
      fieldEnv(mesh::sidecar_env::kServiceAccount, "spec.serviceAccountName"),
      valueEnv(mesh::sidecar_env::kXdsAddress, config.xds_address),
      valueEnv(mesh::sidecar_env::kCaAddress, config.ca_address),
      valueEnv(mesh::sidecar_env::kTrustDomain, config.trust_domain),
      valueEnv(mesh::sidecar_env::kCaTokenFile, std::string(kTokenDir) + "/weft-token"),
      valueEnv(mesh::sidecar_env::kCaRootCert,
               std::string(kRootDir) + "/" + mesh::kTrustBundleConfigMapKey),
      valueEnv(mesh::sidecar_env::kConcurrency, std::to_string(config.concurrency)),
      valueEnv(mesh::sidecar_env::kOutboundPort, std::to_string(config.outbound_port)),
      valueEnv(mesh::sidecar_env::kInboundPort, std::to_string(config.inbound_port)),
      valueEnv(mesh::sidecar_env::kAdminPort, std::to_string(config.admin_port)),
      valueEnv(mesh::sidecar_env::kStatusPort, std::to_string(config.status_port)),
  });
  if (exit_with_app) env.push_back(valueEnv(mesh::sidecar_env::kExitWithApp, "true"));
  for (const auto& [name, value] : workload_env) env.push_back(valueEnv(name.c_str(), value));
  json probe = {{"httpGet", {{"path", "/ready"}, {"port", config.status_port}}}};
  json startup = probe;
  // Up to 10 minutes for the first configuration; the app waits meanwhile.
  startup["periodSeconds"] = 1;
  startup["failureThreshold"] = 600;
  json readiness = probe;
  readiness["periodSeconds"] = 5;
  json container = {
      {"name", kProxyName},
      {"image", config.proxy_image},
      {"imagePullPolicy", config.image_pull_policy},
      {"args", {"sidecar"}},
      {"env", env},
      {"ports",
       {{{"name", "weft-status"}, {"containerPort", config.status_port}, {"protocol", "TCP"}}}},
      {"startupProbe", startup},
      {"readinessProbe", readiness},
      {"resources", resources},
      {"securityContext",
       {{"runAsUser", config.proxy_uid},
        {"runAsGroup", config.proxy_uid},
        {"runAsNonRoot", true},
        {"privileged", false},
        {"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", {"ALL"}}}}}},
      {"volumeMounts",
       {{{"name", kRuntimeVolume}, {"mountPath", kRuntimeDir}},
        {{"name", kTokenVolume}, {"mountPath", kTokenDir}, {"readOnly", true}},
        {{"name", kRootVolume}, {"mountPath", kRootDir}, {"readOnly", true}}}},
  };
  if (native) {
    container["restartPolicy"] = "Always";
  } else {
    // The kubelet starts regular containers in order, and waits for a
    // container's postStart hook before starting the next one: the app
    // starts once the proxy answers /ready.
    json command = {"/usr/local/bin/weft-proxy",        "wait",        "--port",
                    std::to_string(config.status_port), "--timeout-s", "600"};
    container["lifecycle"]["postStart"]["exec"]["command"] = command;
  }
  return container;
}

json volumes() {
  return json::array({
      {{"name", kRuntimeVolume}, {"emptyDir", {{"medium", "Memory"}}}},
      {{"name", kTokenVolume},
       {"projected",
        {{"sources",
          {{{"serviceAccountToken",
             {{"audience", "weft"}, {"expirationSeconds", 43200}, {"path", "weft-token"}}}}}}}}},
      {{"name", kRootVolume}, {"configMap", {{"name", mesh::kTrustBundleConfigMap}}}},
  });
}

}  // namespace weft::injector
