#pragma once

// What weft-control reports on the objects it acts on: Gateway API route
// status (status.parents[], one entry per Service parentRef, written under
// controllerName weft.dev/mesh: Accepted and ResolvedRefs with the reasons
// the spec defines, and weft.dev/Programmed: how many of the proxies that
// should have the route have ACKed it, and the latest NACK's reason) and, for
// DestinationPolicy and AuthorizationPolicy, status.conditions (Accepted,
// Programmed). Computed from the configuration (its errors say what was
// refused and why) and the proxies' sync state; a pure function, so the
// statusz page, weftctl and the Kubernetes status writer read the same.

#include <map>
#include <string>
#include <vector>

#include "controlplane/model/objects.h"
#include "controlplane/xds/ads_server.h"

namespace weft::control::status {

inline constexpr char kControllerName[] = "weft.dev/mesh";
inline constexpr char kRouteProgrammed[] = "weft.dev/Programmed";

struct Condition {
  std::string type, status, reason, message;
  int64_t observed_generation = 0;
  std::string last_transition_time;  // RFC 3339, stamped by StatusTracker
};

struct ParentStatus {
  StatusSubject::ParentRef ref;
  std::vector<Condition> conditions;
};

struct ObjectStatus {
  StatusSubject subject;
  bool route = false;                 // status.parents (routes) or status.conditions
  std::vector<ParentStatus> parents;  // routes
  std::vector<Condition> conditions;  // weft.dev kinds
};

// How the proxies that should hold an object stand with it.
struct Programming {
  int expected = 0, acked = 0, pending = 0, nacked = 0;
  std::string nack_node, nack_error;  // one rejecting proxy and its words
};

Programming programmingOf(const std::string& key, const std::vector<ProxySyncStatus>& proxies);

// One status per statused object of `config` (each object once).
std::vector<ObjectStatus> computeObjectStatuses(const ConfigSet& config,
                                                const std::vector<ProxySyncStatus>& proxies);

// Gives conditions their lastTransitionTime: kept while a condition's status
// stays what it was (here, or in the object's status as the API server
// has it, across restarts), `now` when it changes.
class StatusTracker {
 public:
  void stamp(std::vector<ObjectStatus>& statuses, const std::string& now);

 private:
  std::map<std::string, std::pair<std::string, std::string>> seen_;  // -> (status, time)
};

// RFC 3339 UTC, seconds: "2026-12-08T01:30:00Z".
std::string rfc3339Now();

}  // namespace weft::control::status
