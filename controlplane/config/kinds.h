#pragma once

// The kinds weft-control reads, in one table for both config sources: the
// file/directory parser picks the decoder by apiVersion and kind, the
// Kubernetes source lists and watches each kind's API path.

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "controlplane/model/objects.h"

namespace weft::control {

struct MeshKind {
  std::string api_version;  // the version weft lists and watches
  std::string kind;
  std::string list_path;  // the Kubernetes API path of every object of the kind
  // Older versions still accepted in files (same schema), e.g. HTTPRoute v1beta1.
  std::vector<std::string> also_accepted;
  void (*decode)(const YAML::Node& doc, ObjectMeta meta, ConfigSet& out);

  bool accepts(const std::string& version) const;
};

const std::vector<MeshKind>& meshKinds();

// nullptr when weft does not read this apiVersion and kind.
const MeshKind* findMeshKind(const std::string& api_version, const std::string& kind);

}  // namespace weft::control
