#pragma once

// One decoder per kind weft-control reads: the document's fields -> its
// config object, appended to the set. A field that is wrong throws
// FieldError (controlplane/config/yaml_fields.h).

#include <yaml-cpp/yaml.h>

#include "controlplane/model/objects.h"

namespace weft::control {

void decodeService(const YAML::Node& doc, ObjectMeta meta, ConfigSet& out);
void decodeEndpointSlice(const YAML::Node& doc, ObjectMeta meta, ConfigSet& out);
void decodeHttpRoute(const YAML::Node& doc, ObjectMeta meta, ConfigSet& out);
void decodeGrpcRoute(const YAML::Node& doc, ObjectMeta meta, ConfigSet& out);
void decodeDestinationPolicy(const YAML::Node& doc, ObjectMeta meta, ConfigSet& out);
// Fails closed: a policy that does not decode still selects its Service and
// allows nothing (until validation puts back its last valid version).
void decodeAuthorizationPolicy(const YAML::Node& doc, ObjectMeta meta, ConfigSet& out);
void decodeMeshConfig(const YAML::Node& doc, ObjectMeta meta, ConfigSet& out);

}  // namespace weft::control
