#include "controlplane/config/validate.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>

#include "controlplane/config/route_conflicts.h"
#include "controlplane/config/yaml_fields.h"

namespace weft::control {

namespace {

template <class T>
void dropDuplicates(std::vector<T>& objects, const std::string& kind, ConfigSet& set) {
  std::map<std::string, std::string> seen;  // ns/name -> origin
  std::vector<T> kept;
  for (auto& o : objects) {
    std::string key = o.meta.ns + "/" + o.meta.name;
    auto [it, inserted] = seen.emplace(key, o.meta.origin);
    if (!inserted) {
      set.errors.push_back({o.meta.origin, kind + " " + key, "metadata.name",
                            "duplicate name: already defined in " + it->second});
      continue;
    }
    kept.push_back(std::move(o));
  }
  objects = std::move(kept);
}

const ServicePort* findPort(const Service& svc, uint16_t port) {
  for (const auto& p : svc.ports) {
    if (p.port == port) return &p;
  }
  return nullptr;
}

bool validRegex(const std::string& pattern, std::string* error) {
  re2::RE2 re(pattern, re2::RE2::Quiet);
  if (!re.ok()) *error = re.error();
  return re.ok();
}

// Returns an empty string when the route is valid, else sets field/message.
// "P% REST": P within 0..100; returns REST or nullopt.
std::optional<std::string> percentSpec(const std::string& value) {
  size_t pct = value.find('%');
  if (pct == std::string::npos || pct == 0 || value.size() < pct + 3 || value[pct + 1] != ' ') {
    return std::nullopt;
  }
  char* end = nullptr;
  double p = std::strtod(value.c_str(), &end);
  if (end != value.c_str() + pct || p < 0 || p > 100) return std::nullopt;
  return value.substr(pct + 2);
}

bool checkFaultAnnotations(const HttpRoute& route, std::string* field, std::string* message) {
  const auto& a = route.meta.annotations;
  if (auto it = a.find("weft.dev/fault-abort"); it != a.end()) {
    auto rest = percentSpec(it->second);
    int code = rest ? std::atoi(rest->c_str()) : 0;
    bool grpc = rest && rest->rfind("grpc:", 0) == 0;
    if (!rest || (!grpc && (code < 200 || code > 599))) {
      *field = "metadata.annotations[weft.dev/fault-abort]";
      *message = "'" + it->second + "' is not 'PERCENT% STATUS' (e.g. '10% 503' or '5% grpc:14')";
      return false;
    }
  }
  if (auto it = a.find("weft.dev/retry-on"); it != a.end()) {
    // Envoy's retry_on conditions that weft-proxy implements: anything else
    // would be refused by every proxy (a NACK), so it is refused here.
    static const char* const kConditions[] = {"5xx",
                                              "gateway-error",
                                              "reset",
                                              "connect-failure",
                                              "retriable-status-codes",
                                              "cancelled",
                                              "deadline-exceeded",
                                              "resource-exhausted",
                                              "unavailable"};
    std::string list = it->second;
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = std::min(list.find(',', start), list.size());
      std::string token = list.substr(start, comma - start);
      token.erase(0, token.find_first_not_of(' '));
      token.erase(token.find_last_not_of(' ') + 1);
      bool known = token.empty();
      for (const char* c : kConditions) known = known || token == c;
      if (!known) {
        *field = "metadata.annotations[weft.dev/retry-on]";
        *message = "'" + token + "' is not a retry condition weft knows (5xx, gateway-error, " +
                   "reset, connect-failure, retriable-status-codes, cancelled, " +
                   "deadline-exceeded, resource-exhausted, unavailable)";
        return false;
      }
      start = comma + 1;
    }
  }
  if (auto it = a.find("weft.dev/fault-delay"); it != a.end()) {
    auto rest = percentSpec(it->second);
    if (!rest || !parseGatewayDurationMs(*rest)) {
      *field = "metadata.annotations[weft.dev/fault-delay]";
      *message = "'" + it->second + "' is not 'PERCENT% DURATION' (e.g. '5% 100ms')";
      return false;
    }
  }
  return true;
}

bool checkRoute(const HttpRoute& route, const ConfigSet& set, std::string* field,
                std::string* message) {
  if (!checkFaultAnnotations(route, field, message)) return false;
  for (size_t i = 0; i < route.parent_refs.size(); ++i) {
    const auto& ref = route.parent_refs[i];
    std::string path = "spec.parentRefs[" + std::to_string(i) + "]";
    if (ref.kind != "Service" || (!ref.group.empty() && ref.group != "core")) {
      *field = path + ".kind";
      *message = "only Service parents (the Gateway API mesh profile) are supported, not '" +
                 ref.kind + "'";
      return false;
    }
    const Service* svc = set.findService(ref.ns.empty() ? route.meta.ns : ref.ns, ref.name);
    if (svc == nullptr) {
      *field = path + ".name";
      *message = "Service '" + ref.name + "' does not exist";
      return false;
    }
    if (ref.port != 0 && findPort(*svc, ref.port) == nullptr) {
      *field = path + ".port";
      *message = "Service '" + ref.name + "' has no port " + std::to_string(ref.port);
      return false;
    }
    if (!ref.section_name.empty()) {
      const ServicePort* named = nullptr;
      for (const auto& p : svc->ports) {
        if (p.name == ref.section_name) named = &p;
      }
      if (named == nullptr) {
        *field = path + ".sectionName";
        *message = "Service '" + ref.name + "' has no port named '" + ref.section_name + "'";
        return false;
      }
      if (ref.port != 0 && named->port != ref.port) {
        *field = path + ".sectionName";
        *message =
            "names port " + std::to_string(named->port) + ", not port " + std::to_string(ref.port);
        return false;
      }
    }
  }
  // A backend (a backendRef or a mirror's): its Service and port exist.
  auto checkBackend = [&](const BackendRef& ref, const std::string& bpath) {
    const Service* svc = set.findService(ref.ns.empty() ? route.meta.ns : ref.ns, ref.name);
    if (svc == nullptr) {
      *field = bpath + ".name";
      *message = "backend Service '" + ref.name + "' does not exist";
      return false;
    }
    if (ref.port == 0 && svc->ports.size() > 1) {
      *field = bpath + ".port";
      *message = "is required: Service '" + ref.name + "' has several ports";
      return false;
    }
    if (ref.port != 0 && findPort(*svc, ref.port) == nullptr) {
      *field = bpath + ".port";
      *message = "Service '" + ref.name + "' has no port " + std::to_string(ref.port);
      return false;
    }
    return true;
  };
  for (size_t r = 0; r < route.rules.size(); ++r) {
    const auto& rule = route.rules[r];
    std::string rpath = "spec.rules[" + std::to_string(r) + "]";
    for (size_t m = 0; m < rule.matches.size(); ++m) {
      const auto& match = rule.matches[m];
      std::string mpath = rpath + ".matches[" + std::to_string(m) + "]";
      std::string error;
      if (match.path_type == "RegularExpression" && !validRegex(match.path_value, &error)) {
        *field = mpath + ".path.value";
        *message = "invalid regular expression: " + error;
        return false;
      }
      if (match.path_type != "RegularExpression" && match.path_value.front() != '/') {
        *field = mpath + ".path.value";
        *message = "must start with '/'";
        return false;
      }
      if (match.grpc_method && match.grpc_method->type == "RegularExpression") {
        for (const auto& [part, value] : {std::pair{".service", &match.grpc_method->service},
                                          std::pair{".method", &match.grpc_method->method}}) {
          if (!value->empty() && !validRegex(*value, &error)) {
            *field = mpath + ".method" + part;
            *message = "invalid regular expression: " + error;
            return false;
          }
        }
      }
      for (size_t h = 0; h < match.headers.size(); ++h) {
        if (match.headers[h].type == "RegularExpression" &&
            !validRegex(match.headers[h].value, &error)) {
          *field = mpath + ".headers[" + std::to_string(h) + "].value";
          *message = "invalid regular expression: " + error;
          return false;
        }
      }
      for (size_t q = 0; q < match.query_params.size(); ++q) {
        if (match.query_params[q].type == "RegularExpression" &&
            !validRegex(match.query_params[q].value, &error)) {
          *field = mpath + ".queryParams[" + std::to_string(q) + "].value";
          *message = "invalid regular expression: " + error;
          return false;
        }
      }
    }
    for (size_t m = 0; m < rule.mirrors.size(); ++m) {
      if (!checkBackend(rule.mirrors[m].backend, rpath + ".filters[" +
                                                     std::to_string(rule.mirrors[m].filter_index) +
                                                     "].requestMirror.backendRef")) {
        return false;
      }
    }
    int64_t total = 0;
    for (size_t b = 0; b < rule.backend_refs.size(); ++b) {
      const auto& ref = rule.backend_refs[b];
      std::string bpath = rpath + ".backendRefs[" + std::to_string(b) + "]";
      total += ref.weight;
      if (!checkBackend(ref, bpath)) return false;
    }
    if (!rule.backend_refs.empty() && total == 0) {
      *field = rpath + ".backendRefs";
      *message = "weights are all zero";
      return false;
    }
  }
  return true;
}

}  // namespace

void validateConfig(ConfigSet& set) {
  dropDuplicates(set.services, "Service", set);
  dropDuplicates(set.endpoint_slices, "EndpointSlice", set);
  dropDuplicates(set.http_routes, "HTTPRoute", set);
  dropDuplicates(set.grpc_routes, "GRPCRoute", set);
  dropDuplicates(set.destination_policies, "DestinationPolicy", set);
  dropDuplicates(set.authorization_policies, "AuthorizationPolicy", set);

  for (auto* kind : {&set.http_routes, &set.grpc_routes}) {
    std::vector<HttpRoute> routes;
    for (auto& route : *kind) {
      std::string field, message;
      if (checkRoute(route, set, &field, &message)) {
        routes.push_back(std::move(route));
      } else {
        set.errors.push_back(
            {route.meta.origin,
             std::string(route.kindName()) + " " + route.meta.ns + "/" + route.meta.name, field,
             message});
      }
    }
    *kind = std::move(routes);
  }

  std::vector<DestinationPolicy> policies;
  for (auto& policy : set.destination_policies) {
    std::string object = "DestinationPolicy " + policy.meta.ns + "/" + policy.meta.name;
    const Service* target = set.findService(policy.meta.ns, policy.service);
    if (target == nullptr) {
      set.errors.push_back({policy.meta.origin, object, "spec.targetRef.name",
                            "Service '" + policy.service + "' does not exist"});
      continue;
    }
    // A meshed Service's TLS is the mesh's mTLS: tls there would do nothing.
    if (policy.tls && target->external_name.empty()) {
      set.errors.push_back({policy.meta.origin, object, "spec.tls",
                            "applies to ExternalName Services only ('" + policy.service +
                                "' is in the mesh, which gives it mTLS)"});
      continue;
    }
    policies.push_back(std::move(policy));
  }
  set.destination_policies = std::move(policies);

  std::vector<AuthorizationPolicy> authz;
  for (auto& policy : set.authorization_policies) {
    if (set.findService(policy.meta.ns, policy.service) == nullptr) {
      set.errors.push_back(
          {policy.meta.origin, "AuthorizationPolicy " + policy.meta.ns + "/" + policy.meta.name,
           "spec.targetRef.name", "Service '" + policy.service + "' does not exist"});
      continue;
    }
    authz.push_back(std::move(policy));
  }
  set.authorization_policies = std::move(authz);
  rejectRouteKindConflicts(set);
}

namespace {
template <class T>
bool keepPrevious(const std::string& object, const std::string& kind, std::vector<T>& current,
                  const std::vector<T>& previous) {
  for (const auto& p : previous) {
    if (kind + " " + p.meta.ns + "/" + p.meta.name != object) continue;
    for (const auto& c : current) {
      if (c.meta.ns == p.meta.ns && c.meta.name == p.meta.name) return false;
    }
    current.push_back(p);
    return true;
  }
  return false;
}
// An invalid AuthorizationPolicy stands in as deny-all (fail closed); a
// previous valid version, when there is one, takes its place.
bool keepPreviousAuthorization(const std::string& object, std::vector<AuthorizationPolicy>& current,
                               const std::vector<AuthorizationPolicy>& previous) {
  for (const auto& p : previous) {
    if ("AuthorizationPolicy " + p.meta.ns + "/" + p.meta.name != object || p.invalid) continue;
    for (auto& c : current) {
      if (c.meta.ns == p.meta.ns && c.meta.name == p.meta.name) {
        if (!c.invalid) return false;
        c = p;
        return true;
      }
    }
    current.push_back(p);
    return true;
  }
  return false;
}
}  // namespace

void keepLastValidVersions(ConfigSet& set, const ConfigSet* previous) {
  if (previous == nullptr) return;
  bool route_kept = false;
  for (auto& e : set.errors) {
    if (e.object.empty() || e.route_conflict) continue;
    bool route = keepPrevious(e.object, "HTTPRoute", set.http_routes, previous->http_routes) ||
                 keepPrevious(e.object, "GRPCRoute", set.grpc_routes, previous->grpc_routes);
    route_kept = route_kept || route;
    bool kept =
        route || keepPrevious(e.object, "Service", set.services, previous->services) ||
        keepPrevious(e.object, "EndpointSlice", set.endpoint_slices, previous->endpoint_slices) ||
        keepPrevious(e.object, "DestinationPolicy", set.destination_policies,
                     previous->destination_policies) ||
        keepPreviousAuthorization(e.object, set.authorization_policies,
                                  previous->authorization_policies);
    if (kept) e.message += " (keeping its last valid version)";
  }
  // A route put back may be older than one that won a conflict without it.
  if (route_kept) rejectRouteKindConflicts(set);
}

}  // namespace weft::control
