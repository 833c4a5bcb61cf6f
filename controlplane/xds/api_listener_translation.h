#pragma once

// gRPC's own xDS clients (xds:///HOST): an API listener per requested target
// naming a Service, routed through the same "outbound" route configuration.

#include <set>
#include <string>

#include "controlplane/model/objects.h"
#include "controlplane/xds/resources.h"

namespace weft::control {

// `api_listener_names`: LDS names a client asked for that are not weft's own
// listeners ("echo", "echo.default:8080", ...).
void addApiListeners(const ConfigSet& config, const std::set<std::string>& api_listener_names,
                     ProxyResources& out);

}  // namespace weft::control
