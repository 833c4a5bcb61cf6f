#include "controlplane/config/kind_decoders.h"

#include <cstdlib>

#include "controlplane/config/grpc_route_decoder.h"
#include "controlplane/config/http_route_decoder.h"
#include "controlplane/config/yaml_fields.h"
#include "security/spiffe_id.h"

namespace weft::control {

namespace {

Service parseService(const YAML::Node& doc, ObjectMeta m) {
  Service svc;
  svc.meta = std::move(m);
  const YAML::Node s = spec(doc);
  svc.cluster_ip = str(s["clusterIP"], "spec.clusterIP");
  std::string type = str(s["type"], "spec.type");
  if (type == "ExternalName") {
    svc.external_name = str(s["externalName"], "spec.externalName");
    if (!isDnsName(svc.external_name)) {
      throw FieldError{"spec.externalName",
                       "'" + svc.external_name + "' is not a DNS name (an ExternalName needs one)"};
    }
  } else if (s["externalName"]) {
    throw FieldError{"spec.externalName", "only a Service of type ExternalName has one"};
  }
  const YAML::Node ports = s["ports"];
  if (!ports || !ports.IsSequence() || ports.size() == 0) {
    throw FieldError{"spec.ports", "at least one port is required"};
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string path = "spec.ports[" + std::to_string(i) + "]";
    const YAML::Node p = ports[i];
    ServicePort port;
    port.name = str(p["name"], path + ".name");
    port.port = static_cast<uint16_t>(integer(p["port"], path + ".port", 1, 65535));
    port.target_port = port.port;
    if (p["targetPort"]) {
      if (!p["targetPort"].IsScalar() ||
          p["targetPort"].Scalar().find_first_not_of("0123456789") != std::string::npos) {
        throw FieldError{path + ".targetPort",
                         "named target ports are not supported; use a number"};
      }
      port.target_port =
          static_cast<uint16_t>(integer(p["targetPort"], path + ".targetPort", 1, 65535));
    }
    std::string protocol = str(p["protocol"], path + ".protocol");
    if (!protocol.empty()) port.protocol = protocol;
    if (port.protocol != "TCP") throw FieldError{path + ".protocol", "only TCP is supported"};
    port.app_protocol = str(p["appProtocol"], path + ".appProtocol");
    svc.ports.push_back(std::move(port));
  }
  return svc;
}

EndpointSlice parseEndpointSlice(const YAML::Node& doc, ObjectMeta m) {
  EndpointSlice slice;
  slice.meta = std::move(m);
  auto it = slice.meta.labels.find("kubernetes.io/service-name");
  if (it == slice.meta.labels.end()) {
    throw FieldError{"metadata.labels", "kubernetes.io/service-name is required"};
  }
  slice.service_name = it->second;
  std::string type = str(doc["addressType"], "addressType");
  if (!type.empty() && type != "IPv4" && type != "IPv6") {
    throw FieldError{"addressType", "only IPv4 and IPv6 are supported"};
  }
  const YAML::Node endpoints = doc["endpoints"];
  if (endpoints && endpoints.IsSequence()) {
    for (size_t i = 0; i < endpoints.size(); ++i) {
      std::string path = "endpoints[" + std::to_string(i) + "]";
      const YAML::Node e = endpoints[i];
      Endpoint ep;
      const YAML::Node addresses = e["addresses"];
      if (!addresses || !addresses.IsSequence() || addresses.size() == 0) {
        throw FieldError{path + ".addresses", "at least one address is required"};
      }
      for (size_t j = 0; j < addresses.size(); ++j) {
        ep.addresses.push_back(str(addresses[j], path + ".addresses[" + std::to_string(j) + "]"));
      }
      if (e["conditions"] && e["conditions"]["ready"]) {
        ep.ready = e["conditions"]["ready"].as<std::string>() != "false";
      }
      if (e["targetRef"] && str(e["targetRef"]["kind"], path + ".targetRef.kind") == "Pod") {
        ep.pod_name = str(e["targetRef"]["name"], path + ".targetRef.name");
      }
      if (e["hostname"]) {
        ep.hostname = str(e["hostname"], path + ".hostname");
        if (!isDnsLabel(ep.hostname)) {
          throw FieldError{path + ".hostname", "'" + ep.hostname + "' is not a DNS label"};
        }
      }
      slice.endpoints.push_back(std::move(ep));
    }
  }
  const YAML::Node ports = doc["ports"];
  if (ports && ports.IsSequence()) {
    for (size_t i = 0; i < ports.size(); ++i) {
      std::string path = "ports[" + std::to_string(i) + "]";
      EndpointPort port;
      port.name = str(ports[i]["name"], path + ".name");
      port.port = static_cast<uint16_t>(integer(ports[i]["port"], path + ".port", 1, 65535));
      slice.ports.push_back(std::move(port));
    }
  }
  return slice;
}

// spec.consistentHash, required by (and only taken with) the hashing
// load balancers.
std::optional<DestinationPolicy::ConsistentHash> parseConsistentHash(const YAML::Node& node,
                                                                     const std::string& lb) {
  const bool hashing = lb == "RING_HASH" || lb == "MAGLEV";
  if (!node) {
    if (hashing) {
      throw FieldError{"spec.consistentHash",
                       "is required with loadBalancer " + lb +
                           ": what to hash on (httpHeaderName, httpCookie or useSourceIp)"};
    }
    return std::nullopt;
  }
  if (!hashing) {
    throw FieldError{"spec.consistentHash",
                     "takes effect only with loadBalancer RING_HASH or MAGLEV, not " + lb};
  }
  const std::string path = "spec.consistentHash";
  onlyKeys(node, path, {"httpHeaderName", "httpCookie", "useSourceIp", "ringHash", "maglev"});
  DestinationPolicy::ConsistentHash hash;
  int sources = 0;
  if (node["httpHeaderName"]) {
    hash.http_header_name = str(node["httpHeaderName"], path + ".httpHeaderName");
    if (hash.http_header_name.empty() ||
        hash.http_header_name.find_first_of(" :\t\r\n") != std::string::npos) {
      throw FieldError{path + ".httpHeaderName", "is not an HTTP header name"};
    }
    ++sources;
  }
  if (const YAML::Node cookie = node["httpCookie"]) {
    onlyKeys(cookie, path + ".httpCookie", {"name", "path", "ttl"});
    DestinationPolicy::ConsistentHash::Cookie c;
    c.name = str(cookie["name"], path + ".httpCookie.name");
    if (c.name.empty() || c.name.find_first_of(" =;,\t\"") != std::string::npos) {
      throw FieldError{path + ".httpCookie.name", "is required and must be a cookie name"};
    }
    c.path = str(cookie["path"], path + ".httpCookie.path");
    if (cookie["ttl"]) c.ttl_ms = duration(cookie["ttl"], path + ".httpCookie.ttl");
    hash.http_cookie = std::move(c);
    ++sources;
  }
  if (node["useSourceIp"]) {
    hash.use_source_ip = node["useSourceIp"].as<std::string>() == "true";
    if (!hash.use_source_ip) throw FieldError{path + ".useSourceIp", "must be true when given"};
    ++sources;
  }
  if (sources != 1) {
    throw FieldError{path, "give exactly one of httpHeaderName, httpCookie, useSourceIp"};
  }
  if (const YAML::Node ring = node["ringHash"]) {
    if (lb != "RING_HASH") throw FieldError{path + ".ringHash", "applies to RING_HASH only"};
    onlyKeys(ring, path + ".ringHash", {"minimumRingSize"});
    hash.minimum_ring_size = static_cast<uint64_t>(
        integer(ring["minimumRingSize"], path + ".ringHash.minimumRingSize", 1, 8 * 1024 * 1024));
  }
  if (const YAML::Node maglev = node["maglev"]) {
    if (lb != "MAGLEV") throw FieldError{path + ".maglev", "applies to MAGLEV only"};
    onlyKeys(maglev, path + ".maglev", {"tableSize"});
    const int64_t size = integer(maglev["tableSize"], path + ".maglev.tableSize", 2, 5000011);
    for (int64_t d = 2; d * d <= size; ++d) {
      if (size % d == 0) {
        throw FieldError{path + ".maglev.tableSize", std::to_string(size) + " is not a prime"};
      }
    }
    hash.table_size = static_cast<uint64_t>(size);
  }
  return hash;
}

DestinationPolicy parseDestinationPolicy(const YAML::Node& doc, ObjectMeta m) {
  DestinationPolicy policy;
  policy.meta = std::move(m);
  const YAML::Node s = spec(doc);
  onlyKeys(s, "spec",
           {"targetRef", "loadBalancer", "consistentHash", "connectionPool", "retryBudget",
            "outlierDetection", "tls"});
  if (s["targetRef"]) onlyKeys(s["targetRef"], "spec.targetRef", {"kind", "name"});
  std::string target_kind = str(s["targetRef"]["kind"], "spec.targetRef.kind");
  if (!target_kind.empty() && target_kind != "Service") {
    throw FieldError{"spec.targetRef.kind", "'" + target_kind + "' is not Service"};
  }
  policy.service = str(s["targetRef"]["name"], "spec.targetRef.name");
  if (policy.service.empty()) throw FieldError{"spec.targetRef.name", "is required"};
  if (const YAML::Node lb = s["loadBalancer"]) {
    std::string algo = str(lb, "spec.loadBalancer");
    if (algo != "ROUND_ROBIN" && algo != "LEAST_REQUEST" && algo != "RING_HASH" &&
        algo != "MAGLEV") {
      throw FieldError{"spec.loadBalancer",
                       "'" + algo + "' is not ROUND_ROBIN, LEAST_REQUEST, RING_HASH or MAGLEV"};
    }
    policy.load_balancer = algo;
  }
  policy.consistent_hash = parseConsistentHash(s["consistentHash"], policy.load_balancer);
  if (const YAML::Node cp = s["connectionPool"]) {
    onlyKeys(
        cp, "spec.connectionPool",
        {"maxConnections", "maxPendingRequests", "maxRequests", "maxRetries", "connectTimeout"});
    if (cp["maxConnections"]) {
      policy.max_connections =
          integer(cp["maxConnections"], "spec.connectionPool.maxConnections", 1, 1 << 30);
    }
    if (cp["maxPendingRequests"]) {
      policy.max_pending_requests =
          integer(cp["maxPendingRequests"], "spec.connectionPool.maxPendingRequests", 1, 1 << 30);
    }
    if (cp["maxRequests"]) {
      policy.max_requests =
          integer(cp["maxRequests"], "spec.connectionPool.maxRequests", 1, 1 << 30);
    }
    if (cp["maxRetries"]) {
      policy.max_retries = integer(cp["maxRetries"], "spec.connectionPool.maxRetries", 0, 1 << 30);
    }
    if (cp["connectTimeout"]) {
      policy.connect_timeout_ms =
          duration(cp["connectTimeout"], "spec.connectionPool.connectTimeout");
      if (*policy.connect_timeout_ms == 0) {
        throw FieldError{"spec.connectionPool.connectTimeout", "must be greater than 0"};
      }
    }
  }
  if (const YAML::Node budget = s["retryBudget"]) {
    onlyKeys(budget, "spec.retryBudget", {"percent", "minRetryConcurrency"});
    if (budget["percent"]) {
      policy.retry_budget_percent =
          static_cast<double>(integer(budget["percent"], "spec.retryBudget.percent", 0, 100));
    }
    if (budget["minRetryConcurrency"]) {
      policy.min_retry_concurrency = integer(budget["minRetryConcurrency"],
                                             "spec.retryBudget.minRetryConcurrency", 0, 1 << 20);
    }
  }
  if (const YAML::Node od = s["outlierDetection"]) {
    onlyKeys(od, "spec.outlierDetection",
             {"consecutive5xx", "consecutiveGatewayFailures", "interval", "baseEjectionTime",
              "maxEjectionPercent"});
    DestinationPolicy::Outlier o;
    if (od["consecutive5xx"]) {
      o.consecutive_5xx =
          integer(od["consecutive5xx"], "spec.outlierDetection.consecutive5xx", 1, 1 << 20);
    }
    if (od["consecutiveGatewayFailures"]) {
      o.consecutive_gateway_failures =
          integer(od["consecutiveGatewayFailures"],
                  "spec.outlierDetection.consecutiveGatewayFailures", 1, 1 << 20);
    }
    if (od["interval"]) o.interval_ms = duration(od["interval"], "spec.outlierDetection.interval");
    if (od["baseEjectionTime"]) {
      o.base_ejection_time_ms =
          duration(od["baseEjectionTime"], "spec.outlierDetection.baseEjectionTime");
    }
    if (od["maxEjectionPercent"]) {
      o.max_ejection_percent =
          integer(od["maxEjectionPercent"], "spec.outlierDetection.maxEjectionPercent", 0, 100);
    }
    policy.outlier_detection = o;
  }
  if (const YAML::Node tls = s["tls"]) {
    onlyKeys(tls, "spec.tls", {"mode", "sni", "subjectAltNames", "caCertificates"});
    std::string mode = str(tls["mode"], "spec.tls.mode");
    if (mode != "SIMPLE") {
      throw FieldError{"spec.tls.mode",
                       "'" + mode +
                           "' is not SIMPLE (the only mode for an "
                           "ExternalName; meshed Services get mTLS by themselves)"};
    }
    DestinationPolicy::Tls out;
    out.sni = str(tls["sni"], "spec.tls.sni");
    out.ca_certificates = str(tls["caCertificates"], "spec.tls.caCertificates");
    if (const YAML::Node sans = tls["subjectAltNames"]) {
      if (!sans.IsSequence()) throw FieldError{"spec.tls.subjectAltNames", "must be a list"};
      for (size_t i = 0; i < sans.size(); ++i) {
        out.subject_alt_names.push_back(
            str(sans[i], "spec.tls.subjectAltNames[" + std::to_string(i) + "]"));
      }
    }
    policy.tls = std::move(out);
  }
  return policy;
}

AuthorizationPolicy parseAuthorizationPolicy(const YAML::Node& doc, ObjectMeta m) {
  AuthorizationPolicy policy;
  policy.meta = std::move(m);
  const YAML::Node s = spec(doc);
  onlyKeys(s, "spec", {"targetRef", "rules"});
  const YAML::Node target = s["targetRef"];
  if (target) onlyKeys(target, "spec.targetRef", {"kind", "name"});
  std::string kind = str(target["kind"], "spec.targetRef.kind");
  if (!kind.empty() && kind != "Service") {
    throw FieldError{"spec.targetRef.kind", "'" + kind + "' is not Service"};
  }
  policy.service = str(target["name"], "spec.targetRef.name");
  if (policy.service.empty()) throw FieldError{"spec.targetRef.name", "is required"};
  const YAML::Node rules = s["rules"];
  if (rules && !rules.IsSequence()) throw FieldError{"spec.rules", "must be a list"};
  for (size_t i = 0; rules && i < rules.size(); ++i) {
    std::string rpath = "spec.rules[" + std::to_string(i) + "]";
    AuthorizationRule rule;
    onlyKeys(rules[i], rpath, {"from", "to"});
    const YAML::Node from = rules[i]["from"];
    if (!from || !from.IsSequence() || from.size() == 0) {
      throw FieldError{rpath + ".from", "is required: the identities this rule allows"};
    }
    for (size_t j = 0; j < from.size(); ++j) {
      std::string fpath = rpath + ".from[" + std::to_string(j) + "]";
      onlyKeys(from[j], fpath, {"identity", "namespace", "serviceAccount"});
      std::string identity = str(from[j]["identity"], fpath + ".identity");
      std::string ns = str(from[j]["namespace"], fpath + ".namespace");
      std::string sa = str(from[j]["serviceAccount"], fpath + ".serviceAccount");
      if (!identity.empty()) {
        if (!ns.empty() || !sa.empty()) {
          throw FieldError{fpath, "give identity, or namespace/serviceAccount, not both"};
        }
        std::string why;
        if (!security::parseWorkloadId(identity, &why)) {
          throw FieldError{fpath + ".identity", "'" + identity + "': " + why};
        }
        rule.from_identities.push_back(identity);
        continue;
      }
      if (ns.empty() && sa.empty()) {
        throw FieldError{fpath, "one of identity, namespace, serviceAccount is required"};
      }
      if (ns.empty()) ns = policy.meta.ns;
      std::string why;
      if (!security::parseWorkloadId(
              security::SpiffeId{"cluster.local", ns, sa.empty() ? "x" : sa}.uri(), &why)) {
        throw FieldError{fpath, "not a valid namespace / service account: " + why};
      }
      rule.from_accounts.emplace_back(ns, sa);
    }
    if (const YAML::Node to = rules[i]["to"]) {
      onlyKeys(to, rpath + ".to", {"paths", "methods"});
      for (size_t j = 0; to["paths"] && j < to["paths"].size(); ++j) {
        std::string ppath = rpath + ".to.paths[" + std::to_string(j) + "]";
        std::string p = str(to["paths"][j], ppath);
        size_t star = p.find('*');
        bool valid = p == "*" || (!p.empty() && p[0] == '/' &&
                                  (star == std::string::npos || star == p.size() - 1));
        if (!valid) {
          throw FieldError{ppath, "'" + p + "' is not /exact, /prefix/* or *"};
        }
        rule.paths.push_back(p);
      }
      for (size_t j = 0; to["methods"] && j < to["methods"].size(); ++j) {
        std::string mpath = rpath + ".to.methods[" + std::to_string(j) + "]";
        std::string method = str(to["methods"][j], mpath);
        if (method.empty() ||
            method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
          throw FieldError{mpath, "'" + method + "' is not an upper-case HTTP method"};
        }
        rule.methods.push_back(method);
      }
    }
    policy.rules.push_back(std::move(rule));
  }
  return policy;
}

MeshConfig parseMeshConfig(const YAML::Node& doc, ObjectMeta m) {
  MeshConfig mesh;
  mesh.meta = std::move(m);
  const YAML::Node s = spec(doc);
  onlyKeys(s, "spec",
           {"trustDomain", "mtls", "certificateLifetime", "egress", "accessLog", "tracing",
            "protocolDetectionTimeout"});
  std::string td = str(s["trustDomain"], "spec.trustDomain");
  if (!td.empty()) mesh.trust_domain = td;
  if (const YAML::Node mtls = s["mtls"]) {
    onlyKeys(mtls, "spec.mtls", {"mode", "namespaces"});
    std::string mode = str(mtls["mode"], "spec.mtls.mode");
    if (mtls["mode"] && mode != "STRICT" && mode != "PERMISSIVE" && mode != "DISABLE") {
      throw FieldError{"spec.mtls.mode", "'" + mode + "' is not STRICT, PERMISSIVE or DISABLE"};
    }
    if (!mode.empty()) mesh.mtls_mode = mode;
    if (const YAML::Node namespaces = mtls["namespaces"]) {
      if (!namespaces.IsMap()) {
        throw FieldError{"spec.mtls.namespaces", "must map namespace names to modes"};
      }
      for (const auto& entry : namespaces) {
        std::string ns = entry.first.as<std::string>();
        std::string path = "spec.mtls.namespaces." + ns;
        std::string ns_mode = str(entry.second, path);
        if (ns_mode != "STRICT" && ns_mode != "PERMISSIVE" && ns_mode != "DISABLE") {
          throw FieldError{path, "'" + ns_mode + "' is not STRICT, PERMISSIVE or DISABLE"};
        }
        mesh.mtls_mode_by_namespace[ns] = ns_mode;
      }
    }
  }
  if (const YAML::Node log = s["accessLog"]) {
    onlyKeys(log, "spec.accessLog", {"mode", "namespaces"});
    auto mode = [](const YAML::Node& node, const std::string& path) {
      std::string value = str(node, path);
      if (value != "Off" && value != "Text" && value != "JSON") {
        throw FieldError{path, "'" + value + "' is not Off, Text or JSON"};
      }
      return value;
    };
    if (log["mode"]) mesh.access_log_mode = mode(log["mode"], "spec.accessLog.mode");
    if (const YAML::Node namespaces = log["namespaces"]) {
      if (!namespaces.IsMap()) {
        throw FieldError{"spec.accessLog.namespaces", "must map namespace names to modes"};
      }
      for (const auto& entry : namespaces) {
        std::string ns = entry.first.as<std::string>();
        mesh.access_log_mode_by_namespace[ns] =
            mode(entry.second, "spec.accessLog.namespaces." + ns);
      }
    }
  }
  if (const YAML::Node tracing = s["tracing"]) {
    onlyKeys(tracing, "spec.tracing", {"collector", "samplingPercent"});
    std::string collector = str(tracing["collector"], "spec.tracing.collector");
    // "HOST:PORT": OTLP/gRPC; "http://HOST:PORT[/PATH]": OTLP/HTTP.
    std::string address = collector;
    if (address.starts_with("http://")) {
      address =
          address.substr(7, address.find('/', 7) == std::string::npos ? std::string::npos
                                                                      : address.find('/', 7) - 7);
    }
    size_t colon = address.rfind(':');
    int64_t port = colon == std::string::npos ? 0 : std::atoll(address.c_str() + colon + 1);
    if (colon == 0 || colon == std::string::npos || port < 1 || port > 65535 ||
        address.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
      throw FieldError{"spec.tracing.collector",
                       "'" + collector +
                           "' is not HOST:PORT (OTLP/gRPC) or http://HOST:PORT/PATH (OTLP/HTTP), "
                           "HOST a Service name.namespace or an IP"};
    }
    mesh.tracing_collector = collector;
    if (const YAML::Node sampling = tracing["samplingPercent"]) {
      double percent = -1;
      try {
        percent = sampling.as<double>();
      } catch (const YAML::Exception&) {
      }
      if (percent < 0 || percent > 100) {
        throw FieldError{"spec.tracing.samplingPercent", "must be a number within 0..100"};
      }
      mesh.tracing_sampling_percent = percent;
    }
  }
  if (s["protocolDetectionTimeout"]) {
    mesh.protocol_detection_timeout_ms =
        duration(s["protocolDetectionTimeout"], "spec.protocolDetectionTimeout");
    if (mesh.protocol_detection_timeout_ms == 0 || mesh.protocol_detection_timeout_ms > 10000) {
      throw FieldError{"spec.protocolDetectionTimeout", "must be between 1ms and 10s"};
    }
  }
  if (s["certificateLifetime"]) {
    mesh.certificate_lifetime_s =
        duration(s["certificateLifetime"], "spec.certificateLifetime") / 1000;
  }
  if (const YAML::Node egress = s["egress"]) {
    for (size_t i = 0; i < egress.size(); ++i) {
      std::string path = "spec.egress[" + std::to_string(i) + "]";
      std::string ns = str(egress[i]["namespace"], path + ".namespace");
      if (ns.empty()) throw FieldError{path + ".namespace", "is required"};
      std::string sa = str(egress[i]["serviceAccount"], path + ".serviceAccount");
      auto& hosts = mesh.egress_by_namespace[sa.empty() ? ns : ns + "/" + sa];
      for (size_t j = 0; egress[i]["hosts"] && j < egress[i]["hosts"].size(); ++j) {
        hosts.push_back(str(egress[i]["hosts"][j], path + ".hosts[" + std::to_string(j) + "]"));
      }
    }
  }
  return mesh;
}

}  // namespace

void decodeService(const YAML::Node& doc, ObjectMeta m, ConfigSet& out) {
  out.services.push_back(parseService(doc, std::move(m)));
}

void decodeEndpointSlice(const YAML::Node& doc, ObjectMeta m, ConfigSet& out) {
  out.endpoint_slices.push_back(parseEndpointSlice(doc, std::move(m)));
}

void decodeHttpRoute(const YAML::Node& doc, ObjectMeta m, ConfigSet& out) {
  out.http_routes.push_back(parseHttpRoute(doc, std::move(m)));
}

void decodeGrpcRoute(const YAML::Node& doc, ObjectMeta m, ConfigSet& out) {
  out.grpc_routes.push_back(parseGrpcRoute(doc, std::move(m)));
}

void decodeDestinationPolicy(const YAML::Node& doc, ObjectMeta m, ConfigSet& out) {
  out.destination_policies.push_back(parseDestinationPolicy(doc, std::move(m)));
}

void decodeAuthorizationPolicy(const YAML::Node& doc, ObjectMeta m, ConfigSet& out) {
  try {
    out.authorization_policies.push_back(parseAuthorizationPolicy(doc, m));
  } catch (const FieldError&) {
    // Fail closed: a policy that does not parse still selects its
    // Service, allowing nothing (replaced by its last valid version,
    // if it had one).
    AuthorizationPolicy broken;
    broken.meta = m;
    broken.invalid = true;
    const YAML::Node target = doc["spec"] ? doc["spec"]["targetRef"] : YAML::Node();
    if (target && target["name"] && target["name"].IsScalar()) {
      broken.service = target["name"].Scalar();
      out.authorization_policies.push_back(std::move(broken));
    }
    throw;
  }
}

void decodeMeshConfig(const YAML::Node& doc, ObjectMeta m, ConfigSet& out) {
  out.mesh = parseMeshConfig(doc, std::move(m));
}

}  // namespace weft::control
