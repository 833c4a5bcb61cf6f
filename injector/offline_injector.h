#pragma once

// `weftctl inject`: the webhook's mutation applied to manifests on disk —
// Pods and the pod templates of Deployments, StatefulSets, DaemonSets,
// ReplicaSets, Jobs and CronJobs (and Lists of them). Other kinds pass
// through unchanged; injecting twice changes nothing.

#include <string>

#include "injector/injector_config.h"

namespace weft::injector {

struct OfflineResult {
  std::string yaml;
  int injected = 0;
  int skipped = 0;
  std::string warnings;  // one line per pod left alone for a bad annotation
};

// False with `error` naming the document and line when the input is not YAML.
bool injectManifests(const std::string& yaml, const InjectorConfig& config, OfflineResult* result,
                     std::string* error);

}  // namespace weft::injector
