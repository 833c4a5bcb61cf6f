#pragma once

// A config directory as weft-control and `weftctl check` read it.

#include <string>

#include "controlplane/model/objects.h"

namespace weft::control {

// Reads every *.yaml / *.yml file of `dir` (sorted by name), then validates.
// An object rejected now whose last valid version is in `previous` keeps
// that version, so a bad edit never takes a working route away.
ConfigSet loadConfigDir(const std::string& dir, const ConfigSet* previous = nullptr);

}  // namespace weft::control
