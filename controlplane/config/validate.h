#pragma once

#include "controlplane/model/objects.h"

namespace weft::control {

// Cross-object checks (references, weights, regexes, duplicates). An object
// that fails is removed from `set` alone and reported in set.errors; the rest
// of the configuration keeps applying.
void validateConfig(ConfigSet& set);

// For each object rejected in `set` whose last valid version is in
// `previous`, puts that version back (and says so in the error).
void keepLastValidVersions(ConfigSet& set, const ConfigSet* previous);

}  // namespace weft::control
