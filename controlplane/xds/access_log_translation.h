#pragma once

// MeshConfig spec.accessLog -> every HTTP connection manager and TCP proxy
// of one proxy's listeners: "Text" is Envoy's default line, "JSON" one JSON
// object per request or connection (kDefaultJsonFields), both on stdout,
// where Fluentd / Fluent Bit pick a pod's logs up as they are. "Off" adds
// nothing. API listeners (gRPC's own xDS clients) never get one.

#include <string>

#include "controlplane/model/objects.h"
#include "controlplane/xds/resources.h"

namespace weft::control {

void addAccessLogs(const std::string& mode, ProxyResources& out);

}  // namespace weft::control
