#pragma once

// Kubelet probes under STRICT mTLS: an httpGet / tcpSocket / gRPC probe aimed
// at an app port would be intercepted and refused (the kubelet has no client
// certificate). The injector points each at the sidecar's status port,
// /app-health/<container>/<readiness|liveness|startup> (as Istio does), and
// hands the original to the proxy (WEFT_APP_PROBES), which performs it from
// inside the pod. exec probes are left alone, as are probes the pod already
// aims at the status port or at another host. The annotation
// weft.dev/rewrite-app-probes: "false" (or the config's rewriteAppProbes)
// leaves a pod's probes as they are.

#include <nlohmann/json.hpp>

#include "injector/injector_config.h"
#include "mesh/app_probes.h"

namespace weft::injector {

inline constexpr char kRewriteProbesAnnotation[] = "weft.dev/rewrite-app-probes";

struct ProbeRewrite {
  // What the proxy performs, by status-port path.
  mesh::AppProbes probes;
  // JSON Patch "replace" operations on the pod's probes, to be applied
  // before any operation that shifts the container lists.
  nlohmann::json patch = nlohmann::json::array();
};

// Throws InvalidAnnotation for a rewrite annotation that is not "true"/"false".
ProbeRewrite rewriteProbes(const nlohmann::json& pod, const InjectorConfig& config);

}  // namespace weft::injector
