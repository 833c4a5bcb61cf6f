#include "controlplane/config/parser.h"

#include <yaml-cpp/yaml.h>

#include "common/yaml/yaml_documents.h"
#include "controlplane/config/kinds.h"
#include "controlplane/config/status_subjects.h"
#include "controlplane/config/yaml_fields.h"

namespace weft::control {

void parseYamlDocuments(const std::string& text, const std::string& file, ConfigSet& out) {
  std::vector<YAML::Node> docs;
  std::string error;
  if (!common::loadYamlDocuments(text, &docs, &error)) {
    out.errors.push_back({file, "", "", error});
    return;
  }
  for (size_t i = 0; i < docs.size(); ++i) {
    const YAML::Node& doc = docs[i];
    if (doc.IsNull()) continue;
    std::string origin = file + " (document " + std::to_string(i + 1) + ")";
    if (!doc.IsMap()) {
      out.errors.push_back({origin, "", "", "a document must be a Kubernetes object (a map)"});
      continue;
    }
    std::string api_version = doc["apiVersion"] ? doc["apiVersion"].Scalar() : "";
    std::string kind = doc["kind"] ? doc["kind"].Scalar() : "";
    std::string object = kind;
    if (api_version.empty() || kind.empty()) {
      out.errors.push_back(
          {origin, "", "", "not a Kubernetes object: apiVersion and kind are required"});
      continue;
    }
    try {
      ObjectMeta m = meta(doc, origin);
      object = kind + " " + m.ns + "/" + m.name;
      const MeshKind* mesh_kind = findMeshKind(api_version, kind);
      if (mesh_kind != nullptr) {
        recordStatusSubject(doc, api_version, kind, out);
        mesh_kind->decode(doc, std::move(m), out);
      } else {
        out.errors.push_back({origin, object, "kind",
                              "unknown kind '" + kind + "' (apiVersion '" + api_version + "')"});
      }
    } catch (const FieldError& e) {
      out.errors.push_back({origin, object, e.field, e.message});
    } catch (const YAML::Exception& e) {
      out.errors.push_back({origin, object, "", std::string("malformed: ") + e.what()});
    }
  }
}

}  // namespace weft::control
