#pragma once

// What a proxy needs to call Services: a cluster and endpoints per Service
// port, and the "outbound" route configuration (a virtual host per HTTP
// port: its HTTPRoutes, from http_route_translation.h, then the Service
// itself). Without interception, also the listener the app calls.

#include <string>

#include "controlplane/model/objects.h"
#include "controlplane/xds/resources.h"
#include "controlplane/xds/translator.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace weft::control {

// Clusters, endpoints and routes for every Service `proxy` may call;
// `grpc_client`: a gRPC xDS client reads the routes too (it asked for API
// listeners), so they keep to the fields it knows.
void addOutbound(const ConfigSet& config, const ProxyIdentity& proxy, bool grpc_client,
                 ProxyResources& out);

// No interception: an HTTP listener at the proxy's outbound address that the
// app calls explicitly, routing by Host.
void addOutboundListener(const ProxyIdentity& proxy, ProxyResources& out);

// The cluster of one Service port: EDS, the Service's mTLS, its
// DestinationPolicy. `tcp_of_detected`: the second cluster of a detected
// port, for the connections that turned out not to be HTTP; it shares the
// port's endpoints (EDS service_name) and policy.
envoy::config::cluster::v3::Cluster outboundCluster(const ConfigSet& config, const Service& svc,
                                                    const ServicePort& port,
                                                    bool tcp_of_detected = false);

// Whether `proxy` may call `svc` (its namespace's egress policy).
bool egressAllowed(const ConfigSet& config, const ProxyIdentity& proxy, const Service& svc);

// The routes for one Service port; `first_http` names the Service's bare host
// on the first HTTP port.
envoy::config::route::v3::VirtualHost serviceVirtualHost(const ConfigSet& config,
                                                         const Service& svc,
                                                         const ServicePort& port, bool first_http);

}  // namespace weft::control
