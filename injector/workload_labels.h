#pragma once

// Who a pod's workload is, as Istio's metrics label it, read off the pod at
// admission (the proxy cannot ask the API server): the workload is the
// owner (a ReplicaSet's Deployment, a StatefulSet, a DaemonSet, a Job), else
// the pod's name; app and version from the app / app.kubernetes.io/name and
// version / app.kubernetes.io/version labels; the canonical service and
// revision from service.istio.io/canonical-name / -revision, else from those.
// Values go to the proxy as WEFT_WORKLOAD_NAME, WEFT_APP, ... ; one that is
// not a valid label value is left out (the proxy then says "unknown").

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace weft::injector {

// (variable, value) pairs for the proxy container's environment.
std::vector<std::pair<std::string, std::string>> workloadEnvironment(const nlohmann::json& pod);

}  // namespace weft::injector
