#include "controlplane/config/parser.h"

#include <dirent.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/yaml/yaml_documents.h"
#include "controlplane/config/validate.h"
#include "security/spiffe_id.h"

namespace weft::control {

namespace {

// Thrown only inside this file, while reading one document: the document is
// reported and skipped, the rest of the file still applies.
struct FieldError {
  std::string field;
  std::string message;
};

std::string str(const YAML::Node& node, const std::string& field) {
  if (!node || node.IsNull()) return "";
  if (!node.IsScalar()) throw FieldError{field, "must be a string"};
  return node.Scalar();
}

int64_t integer(const YAML::Node& node, const std::string& field, int64_t min, int64_t max) {
  if (!node.IsScalar()) throw FieldError{field, "must be a number"};
  try {
    size_t used = 0;
    int64_t v = std::stoll(node.Scalar(), &used);
    if (used != node.Scalar().size()) throw std::invalid_argument("trailing");
    if (v < min || v > max) {
      throw FieldError{field, "must be within " + std::to_string(min) + ".." + std::to_string(max) +
                                  " (got " + node.Scalar() + ")"};
    }
    return v;
  } catch (const std::logic_error&) {
    throw FieldError{field, "'" + node.Scalar() + "' is not a number"};
  }
}

uint64_t duration(const YAML::Node& node, const std::string& field) {
  auto ms = parseGatewayDurationMs(str(node, field));
  if (!ms) throw FieldError{field, "'" + node.Scalar() + "' is not a duration (e.g. 10s, 500ms)"};
  return *ms;
}

std::map<std::string, std::string> stringMap(const YAML::Node& node, const std::string& field) {
  std::map<std::string, std::string> out;
  if (!node) return out;
  if (!node.IsMap()) throw FieldError{field, "must be a map"};
  for (const auto& kv : node)
    out[kv.first.Scalar()] = str(kv.second, field + "." + kv.first.Scalar());
  return out;
}

ObjectMeta meta(const YAML::Node& doc, const std::string& origin) {
  ObjectMeta m;
  m.origin = origin;
  const YAML::Node md = doc["metadata"];
  if (!md || !md.IsMap()) throw FieldError{"metadata", "is required"};
  m.name = str(md["name"], "metadata.name");
  if (m.name.empty()) throw FieldError{"metadata.name", "is required"};
  std::string ns = str(md["namespace"], "metadata.namespace");
  if (!ns.empty()) m.ns = ns;
  m.labels = stringMap(md["labels"], "metadata.labels");
  m.annotations = stringMap(md["annotations"], "metadata.annotations");
  return m;
}

const YAML::Node spec(const YAML::Node& doc) {
  const YAML::Node s = doc["spec"];
  if (!s || !s.IsMap()) throw FieldError{"spec", "is required"};
  return s;
}

Service parseService(const YAML::Node& doc, ObjectMeta m) {
  Service svc;
  svc.meta = std::move(m);
  const YAML::Node s = spec(doc);
  svc.cluster_ip = str(s["clusterIP"], "spec.clusterIP");
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

HttpRoute parseHttpRoute(const YAML::Node& doc, ObjectMeta m) {
  HttpRoute route;
  route.meta = std::move(m);
  const YAML::Node s = spec(doc);
  const YAML::Node parents = s["parentRefs"];
  if (!parents || !parents.IsSequence() || parents.size() == 0) {
    throw FieldError{"spec.parentRefs", "at least one parentRef is required"};
  }
  for (size_t i = 0; i < parents.size(); ++i) {
    std::string path = "spec.parentRefs[" + std::to_string(i) + "]";
    ParentRef ref;
    std::string kind = str(parents[i]["kind"], path + ".kind");
    if (!kind.empty()) ref.kind = kind;
    ref.group = str(parents[i]["group"], path + ".group");
    ref.name = str(parents[i]["name"], path + ".name");
    ref.ns = str(parents[i]["namespace"], path + ".namespace");
    if (parents[i]["port"]) {
      ref.port = static_cast<uint16_t>(integer(parents[i]["port"], path + ".port", 1, 65535));
    }
    if (ref.name.empty()) throw FieldError{path + ".name", "is required"};
    route.parent_refs.push_back(std::move(ref));
  }
  if (s["hostnames"] && s["hostnames"].IsSequence()) {
    for (size_t i = 0; i < s["hostnames"].size(); ++i) {
      route.hostnames.push_back(
          str(s["hostnames"][i], "spec.hostnames[" + std::to_string(i) + "]"));
    }
  }
  const YAML::Node rules = s["rules"];
  if (rules && rules.IsSequence()) {
    for (size_t i = 0; i < rules.size(); ++i) {
      std::string rpath = "spec.rules[" + std::to_string(i) + "]";
      const YAML::Node r = rules[i];
      HttpRouteRule rule;
      const YAML::Node matches = r["matches"];
      if (matches && matches.IsSequence()) {
        for (size_t j = 0; j < matches.size(); ++j) {
          std::string mpath = rpath + ".matches[" + std::to_string(j) + "]";
          HttpRouteMatch match;
          if (const YAML::Node p = matches[j]["path"]) {
            std::string type = str(p["type"], mpath + ".path.type");
            if (!type.empty()) match.path_type = type;
            if (match.path_type != "PathPrefix" && match.path_type != "Exact" &&
                match.path_type != "RegularExpression") {
              throw FieldError{
                  mpath + ".path.type",
                  "'" + match.path_type + "' is not PathPrefix, Exact or RegularExpression"};
            }
            std::string value = str(p["value"], mpath + ".path.value");
            if (!value.empty()) match.path_value = value;
          }
          if (const YAML::Node hs = matches[j]["headers"]) {
            for (size_t k = 0; k < hs.size(); ++k) {
              std::string hpath = mpath + ".headers[" + std::to_string(k) + "]";
              HttpRouteMatch::Header h;
              std::string type = str(hs[k]["type"], hpath + ".type");
              if (!type.empty()) h.type = type;
              if (h.type != "Exact" && h.type != "RegularExpression") {
                throw FieldError{hpath + ".type",
                                 "'" + h.type + "' is not Exact or RegularExpression"};
              }
              h.name = str(hs[k]["name"], hpath + ".name");
              h.value = str(hs[k]["value"], hpath + ".value");
              if (h.name.empty()) throw FieldError{hpath + ".name", "is required"};
              match.headers.push_back(std::move(h));
            }
          }
          match.method = str(matches[j]["method"], mpath + ".method");
          rule.matches.push_back(std::move(match));
        }
      }
      const YAML::Node refs = r["backendRefs"];
      if (refs && refs.IsSequence()) {
        for (size_t j = 0; j < refs.size(); ++j) {
          std::string bpath = rpath + ".backendRefs[" + std::to_string(j) + "]";
          BackendRef ref;
          ref.name = str(refs[j]["name"], bpath + ".name");
          ref.ns = str(refs[j]["namespace"], bpath + ".namespace");
          std::string kind = str(refs[j]["kind"], bpath + ".kind");
          if (!kind.empty() && kind != "Service") {
            throw FieldError{bpath + ".kind", "only Service backends are supported"};
          }
          if (refs[j]["port"]) {
            ref.port = static_cast<uint16_t>(integer(refs[j]["port"], bpath + ".port", 1, 65535));
          }
          if (refs[j]["weight"]) {
            ref.weight = integer(refs[j]["weight"], bpath + ".weight", -1000000, 1000000);
          }
          if (ref.name.empty()) throw FieldError{bpath + ".name", "is required"};
          rule.backend_refs.push_back(std::move(ref));
        }
      }
      if (const YAML::Node retry = r["retry"]) {
        HttpRouteRetry out;
        if (retry["attempts"]) {
          out.attempts =
              static_cast<uint32_t>(integer(retry["attempts"], rpath + ".retry.attempts", 0, 100));
        }
        if (const YAML::Node codes = retry["codes"]) {
          for (size_t k = 0; k < codes.size(); ++k) {
            out.codes.push_back(static_cast<uint32_t>(
                integer(codes[k], rpath + ".retry.codes[" + std::to_string(k) + "]", 400, 599)));
          }
        }
        if (retry["backoff"]) out.backoff_ms = duration(retry["backoff"], rpath + ".retry.backoff");
        rule.retry = std::move(out);
      }
      if (const YAML::Node t = r["timeouts"]) {
        if (t["request"])
          rule.request_timeout_ms = duration(t["request"], rpath + ".timeouts.request");
        if (t["backendRequest"]) {
          rule.backend_request_timeout_ms =
              duration(t["backendRequest"], rpath + ".timeouts.backendRequest");
        }
      }
      route.rules.push_back(std::move(rule));
    }
  }
  return route;
}

DestinationPolicy parseDestinationPolicy(const YAML::Node& doc, ObjectMeta m) {
  DestinationPolicy policy;
  policy.meta = std::move(m);
  const YAML::Node s = spec(doc);
  policy.service = str(s["targetRef"]["name"], "spec.targetRef.name");
  if (policy.service.empty()) throw FieldError{"spec.targetRef.name", "is required"};
  if (const YAML::Node lb = s["loadBalancer"]) {
    std::string algo = str(lb, "spec.loadBalancer");
    if (algo != "ROUND_ROBIN" && algo != "LEAST_REQUEST") {
      throw FieldError{"spec.loadBalancer", "'" + algo + "' is not ROUND_ROBIN or LEAST_REQUEST"};
    }
    policy.load_balancer = algo;
  }
  if (const YAML::Node cp = s["connectionPool"]) {
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
    }
  }
  if (const YAML::Node budget = s["retryBudget"]) {
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
  return policy;
}

AuthorizationPolicy parseAuthorizationPolicy(const YAML::Node& doc, ObjectMeta m) {
  AuthorizationPolicy policy;
  policy.meta = std::move(m);
  const YAML::Node s = spec(doc);
  const YAML::Node target = s["targetRef"];
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
    const YAML::Node from = rules[i]["from"];
    if (!from || !from.IsSequence() || from.size() == 0) {
      throw FieldError{rpath + ".from", "is required: the identities this rule allows"};
    }
    for (size_t j = 0; j < from.size(); ++j) {
      std::string fpath = rpath + ".from[" + std::to_string(j) + "]";
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
  std::string td = str(s["trustDomain"], "spec.trustDomain");
  if (!td.empty()) mesh.trust_domain = td;
  if (const YAML::Node mtls = s["mtls"]) {
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

std::optional<uint64_t> parseGatewayDurationMs(const std::string& text) {
  if (text.empty()) return std::nullopt;
  uint64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i - start > 5) return std::nullopt;
    uint64_t n = std::stoull(text.substr(start, i - start));
    if (text.compare(i, 2, "ms") == 0) {
      total += n;
      i += 2;
    } else if (i < text.size() && text[i] == 's') {
      total += n * 1000;
      ++i;
    } else if (i < text.size() && text[i] == 'm') {
      total += n * 60 * 1000;
      ++i;
    } else if (i < text.size() && text[i] == 'h') {
      total += n * 3600 * 1000;
      ++i;
    } else {
      return std::nullopt;
    }
  }
  return total;
}

void parseYamlDocuments(const std::string& text, const std::string& file, ConfigSet& out) {
  std::vector<YAML::Node> docs;
  std::string error;
  if (!common::loadYamlDocuments(text, &docs, &error)) {
    out.errors.push_back({file, "", "", error});
    return;
  }
  for (size_t i = 0; i < docs.size(); ++i) {
    const YAML::Node& doc = docs[i];
    if (doc.IsNull()) continue;
    std::string origin = file + " (document " + std::to_string(i + 1) + ")";
    if (!doc.IsMap()) {
      out.errors.push_back({origin, "", "", "a document must be a Kubernetes object (a map)"});
      continue;
    }
    std::string api_version = doc["apiVersion"] ? doc["apiVersion"].Scalar() : "";
    std::string kind = doc["kind"] ? doc["kind"].Scalar() : "";
    std::string object = kind;
    if (api_version.empty() || kind.empty()) {
      out.errors.push_back(
          {origin, "", "", "not a Kubernetes object: apiVersion and kind are required"});
      continue;
    }
    try {
      ObjectMeta m = meta(doc, origin);
      object = kind + " " + m.ns + "/" + m.name;
      if (api_version == "v1" && kind == "Service") {
        out.services.push_back(parseService(doc, std::move(m)));
      } else if (api_version == "discovery.k8s.io/v1" && kind == "EndpointSlice") {
        out.endpoint_slices.push_back(parseEndpointSlice(doc, std::move(m)));
      } else if ((api_version == "gateway.networking.k8s.io/v1" ||
                  api_version == "gateway.networking.k8s.io/v1beta1") &&
                 kind == "HTTPRoute") {
        out.http_routes.push_back(parseHttpRoute(doc, std::move(m)));
      } else if (api_version == "weft.dev/v1alpha1" && kind == "DestinationPolicy") {
        out.destination_policies.push_back(parseDestinationPolicy(doc, std::move(m)));
      } else if (api_version == "weft.dev/v1alpha1" && kind == "AuthorizationPolicy") {
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
      } else if (api_version == "weft.dev/v1alpha1" && kind == "MeshConfig") {
        out.mesh = parseMeshConfig(doc, std::move(m));
      } else {
        out.errors.push_back({origin, object, "kind",
                              "unknown kind '" + kind + "' (apiVersion '" + api_version + "')"});
      }
    } catch (const FieldError& e) {
      out.errors.push_back({origin, object, e.field, e.message});
    } catch (const YAML::Exception& e) {
      out.errors.push_back({origin, object, "", std::string("malformed: ") + e.what()});
    }
  }
}

ConfigSet loadConfigDir(const std::string& dir, const ConfigSet* previous) {
  ConfigSet set;
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* entry = readdir(d)) {
      std::string name = entry->d_name;
      auto ends = [&](const std::string& suffix) {
        return name.size() > suffix.size() &&
               name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
      };
      if (name[0] != '.' && (ends(".yaml") || ends(".yml"))) files.push_back(name);
    }
    closedir(d);
  } else {
    set.errors.push_back({dir, "", "", "cannot read the config directory"});
    return set;
  }
  std::sort(files.begin(), files.end());
  for (const auto& name : files) {
    std::string path = dir + "/" + name;
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    parseYamlDocuments(buffer.str(), path, set);
  }
  validateConfig(set);
  keepLastValidVersions(set, previous);
  return set;
}

}  // namespace weft::control
