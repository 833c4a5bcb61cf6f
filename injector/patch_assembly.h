#pragma once

// The RFC 6902 JSON Patch that injects a pod: the weft.dev/status and
// prometheus.io/* annotations (an app's own prometheus.io/* kept), weft-init
// first among the init containers, the proxy (native sidecar next, else
// first container), the volumes, and shareProcessNamespace for a Job's pod.

#include <nlohmann/json.hpp>

#include "injector/injector_config.h"

namespace weft::injector {

// Paths are relative to `pod`.
nlohmann::json injectionPatch(const nlohmann::json& pod, const InjectorConfig& config,
                              const nlohmann::json& init, const nlohmann::json& proxy, bool native,
                              bool exit_with_app);

}  // namespace weft::injector
