#pragma once

// gateway.networking.k8s.io HTTPRoute -> the model, every field checked:
// what weft implements is read, any other field is an error naming it.

#include <yaml-cpp/yaml.h>

#include "controlplane/model/objects.h"

namespace weft::control {

HttpRoute parseHttpRoute(const YAML::Node& doc, ObjectMeta meta);

}  // namespace weft::control
