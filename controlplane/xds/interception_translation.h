#pragma once

// A proxy in a pod with weft-init's iptables rules: redirected connections
// land on the outbound and inbound ports and are handed to the listener of
// their original destination (one per Service cluster IP and port, never
// bound); what matches none passes through to where it was going.

#include <cstdint>
#include <string>

#include "controlplane/model/objects.h"
#include "controlplane/xds/resources.h"
#include "controlplane/xds/translator.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace weft::control {

// A listener per Service cluster IP and port, and the outbound redirect
// listener with its passthrough cluster.
void addServiceListeners(const ConfigSet& config, const ProxyIdentity& proxy, ProxyResources& out);

// The virtual listener `outbound|IP_PORT` for connections the app opens to
// IP:PORT: HTTP (and detected) ports route by `routes` (whatever the Host),
// TCP ports go to `cluster`; on a detected port what is not HTTP goes to
// `detected_tcp_cluster`.
void addVirtualOutboundListener(const ConfigSet& config, const std::string& ip, uint16_t port,
                                const ServicePort& service_port,
                                envoy::config::route::v3::VirtualHost routes,
                                const std::string& cluster, const std::string& detected_tcp_cluster,
                                ProxyResources& out);

// The inbound redirect listener: ports no Service names go to the app, under
// the namespace's mTLS mode.
void addInboundPassthrough(const ConfigSet& config, const ProxyIdentity& proxy,
                           ProxyResources& out);

// Makes `listener` virtual: never bound, found by a redirected connection's
// original destination IP:PORT.
void makeVirtual(envoy::config::listener::v3::Listener* listener, const std::string& ip,
                 uint16_t port);

}  // namespace weft::control
