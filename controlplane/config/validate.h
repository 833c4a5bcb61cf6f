#pragma once

#include "controlplane/model/objects.h"

namespace weft::control {

// Cross-object checks (references, weights, regexes, duplicates). An object
// that fails is removed from `set` alone and reported in set.errors; the rest
// of the configuration keeps applying.
void validateConfig(ConfigSet& set);

}  // namespace weft::control
