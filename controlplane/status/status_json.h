#pragma once

// ObjectStatus as the Kubernetes API and /debug/statusz show it: the
// `status` object weft writes (for a route, the other controllers' entries
// in status.parents kept as they are, weft's after them), and whether the
// object already carries it (no write then: a write would come back as a
// watch event, and must not loop).

#include <nlohmann/json.hpp>
#include <string>

#include "controlplane/status/object_status.h"

namespace weft::control::status {

// A parentRef as the spec has it (group "", kind Service, ...).
nlohmann::json parentRefJson(const StatusSubject::ParentRef& ref);

nlohmann::json desiredStatus(const ObjectStatus& object);

// Whether the object's current status (from the API server) is `desiredStatus`.
bool upToDate(const ObjectStatus& object);

// {kind, namespace, name, generation, status}: one entry of /debug/statusz.
nlohmann::json statuszEntry(const ObjectStatus& object);

// The lastTransitionTime the object's current status gives condition `c`
// (at the parent whose parentRefJson dumps as `parent`, or "" for
// status.conditions), when it has the same status there; else "".
std::string previousTransitionTime(const ObjectStatus& object, const std::string& parent,
                                   const Condition& c);

}  // namespace weft::control::status
