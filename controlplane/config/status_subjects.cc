#include "controlplane/config/status_subjects.h"

#include "common/yaml/yaml_json.h"

namespace weft::control {

namespace {

std::string scalar(const YAML::Node& node) {
  return node && node.IsScalar() ? node.Scalar() : std::string();
}

int64_t number(const YAML::Node& node) {
  try {
    return node && node.IsScalar() ? node.as<int64_t>() : 0;
  } catch (const YAML::Exception&) {
    return 0;
  }
}

}  // namespace

bool hasStatus(const std::string& kind) {
  return kind == "HTTPRoute" || kind == "GRPCRoute" || kind == "DestinationPolicy" ||
         kind == "AuthorizationPolicy" || kind == "MeshConfig";
}

void recordStatusSubject(const YAML::Node& doc, const std::string& api_version,
                         const std::string& kind, ConfigSet& out) {
  if (!hasStatus(kind)) return;
  const YAML::Node md = doc["metadata"];
  if (!md || !md.IsMap() || scalar(md["name"]).empty()) return;
  StatusSubject subject;
  subject.kind = kind;
  subject.api_version = api_version;
  subject.name = scalar(md["name"]);
  subject.ns = scalar(md["namespace"]).empty() ? "default" : scalar(md["namespace"]);
  subject.generation = number(md["generation"]);
  subject.resource_version = scalar(md["resourceVersion"]);
  const YAML::Node spec = doc["spec"];
  const YAML::Node refs = spec && spec.IsMap() ? spec["parentRefs"] : YAML::Node();
  if (refs && refs.IsSequence()) {
    for (const auto& ref : refs) {
      if (!ref.IsMap()) continue;
      StatusSubject::ParentRef p;
      p.group = scalar(ref["group"]);
      if (ref["kind"]) p.kind = scalar(ref["kind"]);
      p.ns = scalar(ref["namespace"]);
      p.name = scalar(ref["name"]);
      p.section_name = scalar(ref["sectionName"]);
      p.port = number(ref["port"]);
      subject.parent_refs.push_back(std::move(p));
    }
  }
  if (const YAML::Node status = doc["status"])
    subject.status_json = common::yamlNodeToJson(status).dump();
  out.status_subjects.push_back(std::move(subject));
}

}  // namespace weft::control
