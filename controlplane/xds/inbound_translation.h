#pragma once

// What a proxy needs to receive calls: for every port of the Services whose
// endpoints are its pod, a listener (HTTP with routes to the app, or TCP),
// the AuthorizationPolicies as RBAC, the namespace's mTLS mode, and a
// cluster for the app itself.

#include "controlplane/model/objects.h"
#include "controlplane/xds/resources.h"
#include "controlplane/xds/translator.h"

namespace weft::control {

void addInbound(const ConfigSet& config, const ProxyIdentity& proxy, ProxyResources& out);

}  // namespace weft::control
