#pragma once

// Records the objects weft writes status for (HTTPRoute, GRPCRoute,
// DestinationPolicy, AuthorizationPolicy, MeshConfig) as StatusSubjects, read leniently
// before the strict decoders run: a route refused for one bad field still
// has its parentRefs, generation and current status for the status writer.

#include <yaml-cpp/yaml.h>

#include <string>

#include "controlplane/model/objects.h"

namespace weft::control {

// Whether weft writes status for objects of `kind`.
bool hasStatus(const std::string& kind);

// Adds `doc` (of a kind hasStatus() takes, with a metadata.name) to
// `out.status_subjects`; never throws.
void recordStatusSubject(const YAML::Node& doc, const std::string& api_version,
                         const std::string& kind, ConfigSet& out);

}  // namespace weft::control
