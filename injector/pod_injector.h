#pragma once

// The sidecar mutation of one pod (or one workload's pod template): whether
// to inject, and the RFC 6902 JSON Patch that does it. Shared by the webhook
// and `weftctl inject`, so both give the same result for the same input.

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "injector/injector_config.h"

namespace weft::injector {

inline constexpr char kVersion[] = "0.1.0";

// Which webhook asked: pods of a labelled namespace are injected unless they
// opt out; elsewhere only pods annotated weft.dev/inject: "true" are.
enum class Scope { kNamespaceEnabled, kOptInOnly };

struct PodSource {
  // The pod runs to completion (a Job's or CronJob's): the proxy must end
  // when the app does.
  bool runs_to_completion = false;
};

struct Injection {
  // Empty when the pod is to be injected; otherwise why not, as a metric
  // label: host_network, already_injected, opted_out, not_opted_in,
  // name_conflict, malformed_pod.
  std::string skip_reason;
  // A pod annotation that cannot be honoured (reason invalid_annotation):
  // the pod is left alone and the message names the annotation.
  std::string error;
};

// Decides for `pod` (an object with metadata and spec) and, when it is to be
// injected, writes the JSON Patch array into `patch` (paths relative to `pod`).
Injection injectPod(const nlohmann::json& pod, Scope scope, const PodSource& source,
                    const InjectorConfig& config, nlohmann::json* patch);

}  // namespace weft::injector
