#pragma once

// The mesh's mutual TLS in Envoy's terms: what a proxy's outbound clusters
// and inbound listeners look like for the namespace's mode (STRICT,
// PERMISSIVE, DISABLE), and the trust bundle as the SDS secret ROOTCA.
// Certificates are named, never sent: "default" is the proxy's own
// CA-issued certificate, which it makes and holds itself.

#include "controlplane/model/objects.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "mesh/names.h"

namespace weft::control {

// mTLS applies once the mesh has a CA (a trust bundle to hand out).
bool meshTlsEnabled(const ConfigSet& config);

// Calls to `svc` go over mTLS unless its namespace's mode is DISABLE or the
// Service says `weft.dev/mtls: disable` (a backend without a sidecar). The
// server must prove one of the identities of `svc`: those listed in the
// annotation `weft.dev/service-accounts`, else any of its namespace.
// An HTTP/1 port is upgraded to HTTP/2 between the sidecars (as Linkerd
// does): requests multiplex over few connections and handshakes; the inbound
// sidecar speaks the app's own protocol to the app.
void secureOutboundCluster(const ConfigSet& config, const Service& svc, bool http_port,
                           envoy::config::cluster::v3::Cluster* cluster);

// Applies the mode of namespace `ns` to an inbound listener's plaintext
// filter chains: STRICT terminates mTLS on each, PERMISSIVE adds a TLS chain
// beside each (tls_inspector picks), DISABLE leaves them. A detecting
// chain for HTTP (application_protocols http/1.1, h2c, ...) matches its
// mTLS callers by ALPN instead (h2 from a client sidecar's HTTP cluster).
void secureInboundListener(const ConfigSet& config, const std::string& ns,
                           envoy::config::listener::v3::Listener* listener);

envoy::extensions::transport_sockets::tls::v3::Secret trustBundleSecret(const ConfigSet& config);

}  // namespace weft::control
