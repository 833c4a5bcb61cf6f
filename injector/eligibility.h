#pragma once

// Whether a pod gets the sidecar: not with hostNetwork, not twice, not when
// it opts out (weft.dev/inject: "false"), outside labelled namespaces only
// when it opts in, never over containers that already use weft's names.

#include <nlohmann/json.hpp>
#include <string>

#include "injector/pod_injector.h"

namespace weft::injector {

// "" when `pod` is to be injected; otherwise the reason (a metric label):
// malformed_pod, host_network, already_injected, opted_out, not_opted_in,
// name_conflict.
std::string skipReason(const nlohmann::json& pod, Scope scope);

// Whether `pod` was created by a Job (ownerReferences).
bool ownedByJob(const nlohmann::json& pod);

}  // namespace weft::injector
