#include "injector/eligibility.h"

#include "injector/injected_names.h"
#include "injector/pod_json.h"

namespace weft::injector {

using json = nlohmann::json;

std::string skipReason(const json& pod, Scope scope) {
  const json& spec = field(pod, "spec");
  // No pod the API server sends looks like this; a patch against it would
  // not apply (and nlohmann's patch asserts rather than throws on it).
  if (!spec.is_object() || !field(spec, "containers").is_array() ||
      (spec.contains("initContainers") && !field(spec, "initContainers").is_array()) ||
      (spec.contains("volumes") && !field(spec, "volumes").is_array()) ||
      (pod.contains("metadata") && !field(pod, "metadata").is_object())) {
    return "malformed_pod";
  }
  if (field(spec, "hostNetwork") == true) {
    return "host_network";
  }
  if (!annotation(pod, kStatusAnnotation).empty()) {
    return "already_injected";
  }
  std::string wanted = annotation(pod, kInjectAnnotation);
  if (wanted == "false") {
    return "opted_out";
  }
  if (scope == Scope::kOptInOnly && wanted != "true") {
    return "not_opted_in";
  }
  for (const char* list : {"containers", "initContainers"}) {
    for (const char* name : {kProxyName, kInitName}) {
      if (hasContainerNamed(spec, list, name)) {
        return "name_conflict";
      }
    }
  }

  return "";
}

bool ownedByJob(const json& pod) {
  const json& owners = field(field(pod, "metadata"), "ownerReferences");
  if (!owners.is_array()) return false;
  for (const auto& owner : owners) {
    if (field(owner, "kind") == "Job") return true;
  }
  return false;
}

}  // namespace weft::injector
