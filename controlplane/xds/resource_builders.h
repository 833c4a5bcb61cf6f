#pragma once

// Small builders the translations share: names, addresses, the ADS config
// source, and the HTTP connection manager every sidecar listener uses.

#include <cstdint>
#include <functional>
#include <string>

#include "controlplane/model/objects.h"
#include "controlplane/xds/resources.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace weft::control {

// NAME.NAMESPACE.svc.cluster.local
std::string fqdn(const Service& svc);
// How the sidecars carry a Service port (Istio's protocol selection): by
// appProtocol, else by the name's prefix (http, http2, grpc -> HTTP; tcp,
// tls, https, mongo, mysql, redis -> TCP); a port with neither (unnamed, or
// a name like "web") gets protocol detection: the first bytes decide, and
// nothing within MeshConfig's protocolDetectionTimeout means TCP.
enum class PortProtocol { kHttp, kTcp, kDetect };
PortProtocol portProtocol(const ServicePort& port);
// HTTP or detected: the port has routes and an HTTP cluster.
bool isHttpPort(const ServicePort& port);
bool isHttp2Port(const ServicePort& port);
// The port `port` of a Service listens on in the pods of `slice` (the
// slice's port of the same name, its only port, else the targetPort).
uint16_t endpointPort(const EndpointSlice& slice, const ServicePort& port);
// The detected ports' second cluster, for what is not HTTP:
// outbound|PORT|tcp|FQDN (the same endpoints).
std::string outboundTcpClusterName(const Service& svc, uint16_t port);
// What a detecting chain for HTTP matches: the plaintext protocols the
// inspector names, or (under mTLS) the ALPN a client sidecar's HTTP cluster
// offers.
void matchHttpPlaintext(envoy::config::listener::v3::FilterChain* chain);
void matchHttpAlpn(envoy::config::listener::v3::FilterChain* chain);
// The listener reads first bytes (http_inspector; tls_inspector too when
// `tls`), deciding within `timeout_ms`.
void addProtocolDetection(envoy::config::listener::v3::Listener* listener, bool tls,
                          uint64_t timeout_ms);
void setAdsSource(envoy::config::core::v3::ConfigSource* source);
void setAddress(envoy::config::core::v3::Address* address, const std::string& ip, uint16_t port);
// The cluster speaks HTTP/2 to its hosts (a port named grpc/http2/h2c).
void setHttp2Upstream(envoy::config::cluster::v3::Cluster* cluster);

template <class M>
void add(ProxyResources& out, ResourceType type, const std::string& name, const M& message) {
  packDeterministic(message, &out.by_type[type][name].any);
}

// Calls `edit` on every network filter of every listener in `out` (filter
// chains and the default chain); `edit` returns true when it changed the
// filter, and only changed listeners are repacked. MeshConfig's mesh-wide
// additions (access logs, tracing) go on this way.
void editNetworkFilters(ProxyResources& out,
                        const std::function<bool(envoy::config::listener::v3::Filter*)>& edit);

// Who is on the other side of an HTTP listener.
enum class Downstream {
  kApp,         // the pod's own app (outbound): untrusted for mesh headers
  kPeer,        // a caller of the pod (inbound); secureInboundListener trusts mTLS ones
  kGrpcClient,  // gRPC's xDS client (API listener): no connection of ours
};

envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager
httpConnectionManager(const std::string& stat_prefix, const std::string& rds_name,
                      Downstream downstream);

}  // namespace weft::control
