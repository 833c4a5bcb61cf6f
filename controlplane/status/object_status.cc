#include "controlplane/status/object_status.h"

#include <ctime>
#include <set>

#include "controlplane/status/status_json.h"

namespace weft::control::status {

namespace {

bool startsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool ourParent(const StatusSubject::ParentRef& ref) {
  return (ref.kind.empty() || ref.kind == "Service") && (ref.group.empty() || ref.group == "core");
}

// A backend (a backendRef or a mirror's) that did not resolve.
bool backendError(const ConfigError& e) { return e.field.find("backendRef") != std::string::npos; }

Condition condition(const StatusSubject& s, std::string type, bool ok, std::string reason,
                    std::string message) {
  return {std::move(type),    ok ? "True" : "False", std::move(reason),
          std::move(message), s.generation,          ""};
}

std::string describe(const ConfigError& e) {
  return e.field.empty() ? e.message : e.field + ": " + e.message;
}

// Programmed, from the proxies' standing; `invalid`: this generation was
// refused (the proxies keep the last valid version, if there was one).
Condition programmed(const StatusSubject& s, const std::string& type, const Programming& p,
                     const ConfigError* invalid) {
  const std::string counts = std::to_string(p.acked) + " of " + std::to_string(p.expected);
  if (invalid != nullptr) {
    return condition(s, type, false, "Invalid",
                     "this generation is not applied (" + describe(*invalid) + "); " +
                         (p.expected > 0 ? counts + " proxies have ACKed its last valid version"
                                         : std::string("no proxy holds a version of it")));
  }
  if (p.expected == 0) {
    return condition(s, type, false, "NoProxies",
                     "no connected proxy should have it (none calls or serves its Service)");
  }
  if (p.nacked > 0) {
    return condition(s, type, false, "Nacked",
                     std::to_string(p.nacked) + " of " + std::to_string(p.expected) +
                         " proxies rejected the configuration carrying it (" + p.nack_node + ": " +
                         p.nack_error + "); they keep their last good configuration");
  }
  if (p.pending > 0) {
    return condition(s, type, false, "Pending", counts + " proxies have ACKed it");
  }
  return condition(s, type, true, "Programmed", counts + " proxies have ACKed it");
}

ObjectStatus routeStatus(const StatusSubject& s, const std::vector<const ConfigError*>& errors,
                         const Programming& progress) {
  ObjectStatus out;
  out.subject = s;
  out.route = true;
  for (size_t i = 0; i < s.parent_refs.size(); ++i) {
    const auto& ref = s.parent_refs[i];
    if (!ourParent(ref)) continue;  // a Gateway's controller writes its own entry
    const std::string parent_path = "spec.parentRefs[" + std::to_string(i) + "]";
    const ConfigError* parent_error = nullptr;  // this parent refused
    const ConfigError* route_error = nullptr;   // the whole generation refused
    const ConfigError* backend_error = nullptr;
    for (const auto* e : errors) {
      if (startsWith(e->field, parent_path)) {
        if (parent_error == nullptr) parent_error = e;
      } else if (!e->route_conflict) {
        if (route_error == nullptr) route_error = e;
        if (backendError(*e) && backend_error == nullptr) backend_error = e;
      }
    }
    ParentStatus parent{ref, {}};
    if (parent_error != nullptr) {
      // The kind conflict (an HTTPRoute and a GRPCRoute on one port) is the
      // mesh profile's listener conflict; any other parent error: no such parent.
      parent.conditions.push_back(
          condition(s, "Accepted", false,
                    parent_error->route_conflict ? "NotAllowedByListeners" : "NoMatchingParent",
                    describe(*parent_error)));
    } else if (route_error != nullptr) {
      parent.conditions.push_back(
          condition(s, "Accepted", false, "UnsupportedValue", describe(*route_error)));
    } else {
      parent.conditions.push_back(condition(s, "Accepted", true, "Accepted", "accepted by weft"));
    }
    if (backend_error != nullptr) {
      const bool kind =
          backend_error->field.size() > 5 &&
          (backend_error->field.ends_with(".kind") || backend_error->field.ends_with(".group"));
      parent.conditions.push_back(condition(s, "ResolvedRefs", false,
                                            kind ? "InvalidKind" : "BackendNotFound",
                                            describe(*backend_error)));
    } else if (route_error != nullptr || (parent_error && !parent_error->route_conflict)) {
      Condition unknown = condition(s, "ResolvedRefs", false, "Pending",
                                    "not checked: the route was refused before its "
                                    "references were resolved");
      unknown.status = "Unknown";
      parent.conditions.push_back(std::move(unknown));
    } else {
      parent.conditions.push_back(
          condition(s, "ResolvedRefs", true, "ResolvedRefs", "every backend resolved"));
    }
    if (parent_error != nullptr) {
      parent.conditions.push_back(condition(s, kRouteProgrammed, false, "NotAccepted",
                                            "the route is not applied at this parent"));
    } else {
      parent.conditions.push_back(programmed(s, kRouteProgrammed, progress, route_error));
    }
    out.parents.push_back(std::move(parent));
  }
  return out;
}

ObjectStatus policyStatus(const StatusSubject& s, const std::vector<const ConfigError*>& errors,
                          const Programming& progress) {
  ObjectStatus out;
  out.subject = s;
  const ConfigError* error = errors.empty() ? nullptr : errors.front();
  out.conditions.push_back(error == nullptr
                               ? condition(s, "Accepted", true, "Accepted", "accepted by weft")
                               : condition(s, "Accepted", false, "Invalid", describe(*error)));
  out.conditions.push_back(programmed(s, "Programmed", progress, error));
  return out;
}

}  // namespace

Programming programmingOf(const std::string& key, const std::vector<ProxySyncStatus>& proxies) {
  Programming p;
  for (const auto& proxy : proxies) {
    if (proxy.resources == nullptr) continue;
    auto it = proxy.resources->applied.find(key);
    if (it == proxy.resources->applied.end()) continue;
    const int type = it->second;
    ++p.expected;
    if (!proxy.nacked_error[type].empty()) {
      ++p.nacked;
      p.nack_node = proxy.node_id;
      p.nack_error = proxy.nacked_error[type];
    } else if (proxy.sent[type].empty() || proxy.sent[type] != proxy.acked[type]) {
      ++p.pending;
    } else {
      ++p.acked;
    }
  }
  return p;
}

std::vector<ObjectStatus> computeObjectStatuses(const ConfigSet& config,
                                                const std::vector<ProxySyncStatus>& proxies) {
  std::vector<ObjectStatus> out;
  std::set<std::string> done;
  for (const auto& subject : config.status_subjects) {
    const std::string key = subject.key();
    if (!done.insert(key).second) continue;  // a duplicate (files): the first is the object
    std::vector<const ConfigError*> errors;
    for (const auto& e : config.errors) {
      if (e.object == key) errors.push_back(&e);
    }
    const Programming progress = programmingOf(key, proxies);
    const bool route = subject.kind == "HTTPRoute" || subject.kind == "GRPCRoute";
    out.push_back(route ? routeStatus(subject, errors, progress)
                        : policyStatus(subject, errors, progress));
  }
  return out;
}

void StatusTracker::stamp(std::vector<ObjectStatus>& statuses, const std::string& now) {
  auto stampOne = [&](const ObjectStatus& object, const std::string& parent, Condition& c) {
    const std::string key = object.subject.key() + "|" + parent + "|" + c.type;
    auto it = seen_.find(key);
    if (it != seen_.end() && it->second.first == c.status) {
      c.last_transition_time = it->second.second;
      return;
    }
    // Not seen by this process: what the API server holds, when it agrees.
    std::string previous = it == seen_.end() ? previousTransitionTime(object, parent, c) : "";
    c.last_transition_time = previous.empty() ? now : previous;
    seen_[key] = {c.status, c.last_transition_time};
  };
  for (auto& object : statuses) {
    for (auto& parent : object.parents) {
      const std::string parent_key = parentRefJson(parent.ref).dump();
      for (auto& c : parent.conditions) stampOne(object, parent_key, c);
    }
    for (auto& c : object.conditions) stampOne(object, "", c);
  }
}

std::string rfc3339Now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace weft::control::status
