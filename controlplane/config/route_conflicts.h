#pragma once

// The Gateway API's rule for an HTTPRoute and a GRPCRoute on one parent:
// when both attach to the same Service port and their hostnames intersect,
// exactly one is accepted there, the older (creationTimestamp), then the
// first by "namespace/name". The other keeps its other parents.

#include "controlplane/model/objects.h"

namespace weft::control {

// Whether a request could match both lists (an empty list: any hostname).
// "*.example.com" covers every name under example.com.
bool hostnamesIntersect(const std::vector<std::string>& a, const std::vector<std::string>& b);

// Recomputes every route's `conflicts` and reports each lost parent in
// set.errors (route_conflict set), replacing earlier such reports.
void rejectRouteKindConflicts(ConfigSet& set);

}  // namespace weft::control
