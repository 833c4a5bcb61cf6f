#pragma once

// Headless Services (clusterIP: None), StatefulSets' peer meshes among them:
// their DNS names resolve to the members' pod IPs, so the app connects to a
// pod, not to a Service IP. Without a listener of its own that connection
// would pass through in plaintext, which a STRICT member refuses. Each
// member gets what a Service port gets, for that one pod: a cluster holding
// only it (the Service's mTLS and DestinationPolicy), a virtual listener at
// PODIP:PORT (interception), and, for members with a hostname, virtual hosts
// for HOSTNAME.SERVICE.NAMESPACE[.svc[.cluster.local]] (the explicit
// outbound listener's Host routing).

#include "controlplane/model/objects.h"
#include "controlplane/xds/resources.h"
#include "controlplane/xds/translator.h"
#include "envoy/config/route/v3/route.pb.h"

namespace weft::control {

// outbound|PORT|IP|FQDN: the subset slot names the member, so the metrics
// of its traffic still name the Service.
std::string memberClusterName(const Service& svc, uint16_t port, const std::string& ip);

// The members of every headless Service `proxy` may call (ready endpoints,
// as DNS publishes them; not the proxy's own pod, whose calls to itself
// never reach its sidecar). Virtual hosts go to `outbound_routes`.
void addHeadlessMembers(const ConfigSet& config, const ProxyIdentity& proxy,
                        envoy::config::route::v3::RouteConfiguration* outbound_routes,
                        ProxyResources& out);

}  // namespace weft::control
