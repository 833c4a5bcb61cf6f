#include "injector/workload_labels.h"

#include "mesh/sidecar_env.h"

namespace weft::injector {
namespace {

using json = nlohmann::json;

std::string label(const json& pod, std::initializer_list<const char*> keys) {
  const json* labels = nullptr;
  if (pod.contains("metadata") && pod["metadata"].contains("labels") &&
      pod["metadata"]["labels"].is_object()) {
    labels = &pod["metadata"]["labels"];
  }
  if (labels == nullptr) return "";
  for (const char* key : keys) {
    auto it = labels->find(key);
    if (it != labels->end() && it->is_string() && !it->get<std::string>().empty()) {
      return it->get<std::string>();
    }
  }
  return "";
}

std::string metadataString(const json& pod, const char* key) {
  if (!pod.contains("metadata") || !pod["metadata"].contains(key)) return "";
  const json& value = pod["metadata"][key];
  return value.is_string() ? value.get<std::string>() : "";
}

// The controller's name: a ReplicaSet named DEPLOYMENT-HASH (its pods carry
// pod-template-hash=HASH) is its Deployment's.
std::string workloadName(const json& pod) {
  if (pod.contains("metadata") && pod["metadata"].contains("ownerReferences") &&
      pod["metadata"]["ownerReferences"].is_array()) {
    for (const json& owner : pod["metadata"]["ownerReferences"]) {
      if (!owner.is_object() || !owner.value("controller", false)) continue;
      std::string name = owner.value("name", "");
      if (owner.value("kind", "") == "ReplicaSet") {
        std::string hash = label(pod, {"pod-template-hash"});
        if (!hash.empty() && name.size() > hash.size() + 1 &&
            name.compare(name.size() - hash.size() - 1, std::string::npos, "-" + hash) == 0) {
          name.resize(name.size() - hash.size() - 1);
        }
      }
      if (!name.empty()) return name;
    }
  }
  std::string name = metadataString(pod, "name");
  if (!name.empty()) return name;
  // generateName "web-" of a bare pod made by a client.
  name = metadataString(pod, "generateName");
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name;
}

// A Kubernetes label value: at most 63 of [A-Za-z0-9._-], alphanumeric at
// both ends (DNS subdomain names, up to 253, for the workload).
bool labelValue(const std::string& value, size_t max) {
  if (value.empty() || value.size() > max) return false;
  for (char c : value) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> workloadEnvironment(const json& pod) {
  namespace env = mesh::sidecar_env;
  std::string workload = workloadName(pod);
  std::string app = label(pod, {"app", "app.kubernetes.io/name"});
  std::string version = label(pod, {"version", "app.kubernetes.io/version"});
  std::string canonical_service =
      label(pod, {"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"});
  std::string canonical_revision =
      label(pod, {"service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"});
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&out](const char* name, const std::string& value, size_t max) {
    if (labelValue(value, max)) out.emplace_back(name, value);
  };
  add(env::kWorkloadName, workload, 253);
  add(env::kApp, app, 63);
  add(env::kVersion, version, 63);
  add(env::kCanonicalService, canonical_service, 63);
  add(env::kCanonicalRevision, canonical_revision, 63);
  return out;
}

}  // namespace weft::injector
