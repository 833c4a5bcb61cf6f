#pragma once

// What a proxy needs to call Services: a cluster and endpoints per Service
// port, and the "outbound" route configuration (Gateway API HTTPRoutes:
// matches in Gateway API precedence, weighted backends, retries, timeouts,
// faults). Without interception, also the listener the app calls.

#include <string>

#include "controlplane/model/objects.h"
#include "controlplane/xds/resources.h"
#include "controlplane/xds/translator.h"
#include "envoy/config/route/v3/route.pb.h"

namespace weft::control {

// Clusters, endpoints and routes for every Service `proxy` may call.
void addOutbound(const ConfigSet& config, const ProxyIdentity& proxy, ProxyResources& out);

// No interception: an HTTP listener at the proxy's outbound address that the
// app calls explicitly, routing by Host.
void addOutboundListener(const ProxyIdentity& proxy, ProxyResources& out);

// Whether `proxy` may call `svc` (its namespace's egress policy).
bool egressAllowed(const ConfigSet& config, const ProxyIdentity& proxy, const Service& svc);

// The routes for one Service port; `first_http` names the Service's bare host
// on the first HTTP port.
envoy::config::route::v3::VirtualHost serviceVirtualHost(const ConfigSet& config,
                                                         const Service& svc,
                                                         const ServicePort& port, bool first_http);

}  // namespace weft::control
