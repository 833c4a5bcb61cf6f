#pragma once

// The containers and volumes the injection adds, from the injector's
// configuration and the pod's weft.dev/* annotations (excluded ports and
// CIDRs, proxy resources). An annotation that cannot be honoured throws
// InvalidAnnotation naming it.

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "injector/injector_config.h"

namespace weft::injector {

struct InvalidAnnotation {
  std::string message;
};

// The proxy's resources (requests/limits), annotations over the config.
nlohmann::json resources(const nlohmann::json& pod, const InjectorConfig& config);
// weft-init: installs the interception rules.
nlohmann::json initContainer(const nlohmann::json& pod, const InjectorConfig& config,
                             const nlohmann::json& resources);
// weft-proxy: `native` as an init container with restartPolicy Always;
// `exit_with_app` ends it once the app's processes are gone.
// `workload_env`: who the workload is (workloadEnvironment(pod)).
nlohmann::json proxyContainer(const InjectorConfig& config, const nlohmann::json& resources,
                              bool native, bool exit_with_app,
                              const std::vector<std::pair<std::string, std::string>>& workload_env);
// The runtime, token and trust-bundle volumes.
nlohmann::json volumes();

}  // namespace weft::injector
