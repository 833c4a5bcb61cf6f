#include "controlplane/config/route_conflicts.h"

#include <algorithm>
#include <string>

namespace weft::control {

namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool hostnameIntersects(const std::string& a, const std::string& b) {
  bool wild_a = a.rfind("*.", 0) == 0, wild_b = b.rfind("*.", 0) == 0;
  if (!wild_a && !wild_b) return a == b;
  if (wild_a && wild_b)
    return endsWith(a.substr(1), b.substr(1)) || endsWith(b.substr(1), a.substr(1));
  const std::string& wildcard = wild_a ? a : b;
  const std::string& name = wild_a ? b : a;
  // "*.example.com" needs at least one label before ".example.com".
  return name.size() > wildcard.size() - 1 && endsWith(name, wildcard.substr(1));
}

// Whether `a` wins over `b`: the older, a route with a creationTimestamp
// before one without (files have none), then "namespace/name".
bool olderThan(const HttpRoute& a, const HttpRoute& b) {
  const std::string& ca = a.meta.creation_timestamp;
  const std::string& cb = b.meta.creation_timestamp;
  if (ca != cb) {
    if (ca.empty() || cb.empty()) return cb.empty();
    return ca < cb;
  }
  std::string ka = a.meta.ns + "/" + a.meta.name, kb = b.meta.ns + "/" + b.meta.name;
  if (ka != kb) return ka < kb;
  return a.kind == HttpRoute::Kind::kHttp;  // the same name in both kinds: weft's choice
}

std::string routeName(const HttpRoute& r) {
  return std::string(r.kindName()) + " " + r.meta.ns + "/" + r.meta.name;
}

// Each parent of `loser` naming `port` of `svc`, lost to `winner`.
void lose(HttpRoute& loser, const HttpRoute& winner, const Service& svc, const ServicePort& port,
          ConfigSet& set) {
  for (size_t i = 0; i < loser.parent_refs.size(); ++i) {
    if (!loser.parentNames(i, svc, port)) continue;
    std::string message = "not accepted on port " + std::to_string(port.port) + " of Service " +
                          svc.meta.ns + "/" + svc.meta.name + ": " + routeName(winner) +
                          ", older, routes intersecting hostnames there (the Gateway API accepts "
                          "one of an HTTPRoute and a GRPCRoute)";
    loser.conflicts.push_back({i, port.port, message});
    ConfigError error{loser.meta.origin, routeName(loser),
                      "spec.parentRefs[" + std::to_string(i) + "]", message};
    error.route_conflict = true;
    set.errors.push_back(std::move(error));
  }
}

bool attachedIgnoringConflicts(const HttpRoute& r, const Service& svc, const ServicePort& port) {
  for (size_t i = 0; i < r.parent_refs.size(); ++i) {
    if (r.parentNames(i, svc, port)) return true;
  }
  return false;
}

}  // namespace

bool hostnamesIntersect(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.empty() || b.empty()) return true;
  for (const auto& x : a) {
    for (const auto& y : b) {
      if (hostnameIntersects(x, y)) return true;
    }
  }
  return false;
}

void rejectRouteKindConflicts(ConfigSet& set) {
  set.errors.erase(std::remove_if(set.errors.begin(), set.errors.end(),
                                  [](const ConfigError& e) { return e.route_conflict; }),
                   set.errors.end());
  for (auto* kind : {&set.http_routes, &set.grpc_routes}) {
    for (auto& r : *kind) r.conflicts.clear();
  }
  if (set.http_routes.empty() || set.grpc_routes.empty()) return;
  for (const auto& svc : set.services) {
    for (const auto& port : svc.ports) {
      // Oldest first, each accepted unless an accepted route of the other
      // kind routes an intersecting hostname: a route that lost here takes
      // nothing from younger ones.
      std::vector<HttpRoute*> attached;
      for (auto* kind : {&set.http_routes, &set.grpc_routes}) {
        for (auto& r : *kind) {
          if (attachedIgnoringConflicts(r, svc, port)) attached.push_back(&r);
        }
      }
      std::sort(attached.begin(), attached.end(),
                [](const HttpRoute* a, const HttpRoute* b) { return olderThan(*a, *b); });
      std::vector<const HttpRoute*> accepted;
      for (HttpRoute* r : attached) {
        auto winner = std::find_if(accepted.begin(), accepted.end(), [r](const HttpRoute* a) {
          return a->kind != r->kind && hostnamesIntersect(a->hostnames, r->hostnames);
        });
        if (winner == accepted.end()) {
          accepted.push_back(r);
        } else {
          lose(*r, **winner, svc, port, set);
        }
      }
    }
  }
}

}  // namespace weft::control
