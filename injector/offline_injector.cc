#include "injector/offline_injector.h"

#include "common/yaml/yaml_json.h"
#include "injector/eligibility.h"
#include "injector/pod_injector.h"

namespace weft::injector {
namespace {

using ojson = nlohmann::ordered_json;

// The pod (template) inside a workload, and whether it runs to completion;
// nullptr for kinds without one.
ojson* podOf(ojson& doc, bool* runs_to_completion) {
  if (!doc.is_object()) return nullptr;
  std::string kind = doc.value("kind", "");
  *runs_to_completion = kind == "Job" || kind == "CronJob";
  auto at = [&](std::initializer_list<const char*> path) -> ojson* {
    ojson* node = &doc;
    for (const char* key : path) {
      if (!node->is_object() || !node->contains(key)) return nullptr;
      node = &(*node)[key];
    }
    return node->is_object() ? node : nullptr;
  };
  if (kind == "Pod") {
    *runs_to_completion = ownedByJob(nlohmann::json::parse(doc.dump()));
    return &doc;
  }
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" ||
      kind == "ReplicaSet" || kind == "Job") {
    return at({"spec", "template"});
  }
  if (kind == "CronJob") return at({"spec", "jobTemplate", "spec", "template"});
  return nullptr;
}

void injectDoc(ojson& doc, const InjectorConfig& config, OfflineResult* result) {
  if (doc.is_object() && doc.value("kind", "") == "List" && doc.contains("items") &&
      doc["items"].is_array()) {
    for (auto& item : doc["items"]) injectDoc(item, config, result);
    return;
  }
  PodSource source;
  ojson* pod = podOf(doc, &source.runs_to_completion);
  if (pod == nullptr) return;
  nlohmann::json plain = nlohmann::json::parse(pod->dump());
  nlohmann::json patch;
  // Offline, the user asked for this file: inject unless a pod opts out.
  Injection injection = injectPod(plain, Scope::kNamespaceEnabled, source, config, &patch);
  if (!injection.skip_reason.empty()) {
    ++result->skipped;
    if (!injection.error.empty()) {
      result->warnings += doc.value("kind", "") + " " +
                          doc.value("/metadata/name"_json_pointer, std::string("?")) + ": " +
                          injection.error + "\n";
    }
    return;
  }
  *pod = pod->patch(ojson::parse(patch.dump()));
  ++result->injected;
}

}  // namespace

bool injectManifests(const std::string& yaml, const InjectorConfig& config, OfflineResult* result,
                     std::string* error) {
  std::vector<ojson> docs;
  if (!common::yamlDocumentsToJson(yaml, &docs, error)) return false;
  for (auto& doc : docs) injectDoc(doc, config, result);
  result->yaml = common::jsonDocumentsToYaml(docs);
  return true;
}

}  // namespace weft::injector
