#pragma once

// ConfigSet -> the Envoy v3 resources one proxy should see. Resource names
// (documented in the README):
//   Cluster / ClusterLoadAssignment  outbound|PORT||NAME.NS.svc.cluster.local
//                                    inbound|PORT||   (the proxy's own app)
//   Listener                         outbound, inbound|PORT
//   RouteConfiguration               outbound, inbound|PORT
// plus, for gRPC's own xDS client, an API listener named after each
// requested "xds:///HOST" target.

#include <memory>
#include <set>
#include <string>

#include "controlplane/model/objects.h"
#include "controlplane/xds/resources.h"
#include "envoy/config/core/v3/base.pb.h"

namespace weft::control {

// Who a proxy is, from its Node: id "POD.NAMESPACE", and metadata
//   SERVICE_ACCOUNT   its workload's service account
//   OUTBOUND_IP, OUTBOUND_PORT   where its outbound listener binds (local mode;
//                     in a pod 127.0.0.1:15001 with interception)
//   APP_IP            where its app listens for inbound traffic (127.0.0.1)
struct ProxyIdentity {
  std::string node_id;
  std::string pod;
  std::string ns = "default";
  std::string service_account = "default";
  std::string outbound_ip = "127.0.0.1";
  uint16_t outbound_port = 15001;
  std::string app_ip = "127.0.0.1";
  // In a pod with weft-init's iptables rules (node metadata INTERCEPTION):
  // redirected traffic arrives at these ports, and the listeners the app's
  // connections meant are found by their original destination.
  bool interception = false;
  uint16_t inbound_port = 15006;
  // Spans' service.name is "<canonical service>.<namespace>" (Istio's).
  std::string canonical_service;

  static ProxyIdentity fromNode(const envoy::config::core::v3::Node& node);
  // Proxies with equal keys see equal resources (the translation cache key).
  std::string cacheKey() const;
};

std::string outboundClusterName(const Service& svc, uint16_t port);

// `api_listener_names`: LDS names a client asked for that are not weft's
// own listeners (gRPC xDS targets such as "echo" or "echo.default:8080").
std::shared_ptr<const ProxyResources> translateForProxy(
    const ConfigSet& config, const ProxyIdentity& proxy,
    const std::set<std::string>& api_listener_names);

}  // namespace weft::control
