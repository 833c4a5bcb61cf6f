#pragma once

// gateway.networking.k8s.io GRPCRoute -> the route model (an HttpRoute of
// kind kGrpc), every field checked: method matches become path matches,
// header matches, the header-modifier and mirror filters and weighted
// backends are read; any other field is an error naming it.

#include <yaml-cpp/yaml.h>

#include "controlplane/model/objects.h"

namespace weft::control {

HttpRoute parseGrpcRoute(const YAML::Node& doc, ObjectMeta meta);

}  // namespace weft::control
