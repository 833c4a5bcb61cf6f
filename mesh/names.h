#pragma once

// Names the binaries must agree on: SDS secret names, the trust-bundle
// ConfigMap, weft-control's own identity.

namespace weft::mesh {

// The trust bundle weft-control serves over SDS (Istio's name).
inline constexpr char kTrustBundleSecret[] = "ROOTCA";
// The proxy's own workload certificate, as listeners and clusters name it.
inline constexpr char kWorkloadSecret[] = "default";

// The ALPN protocol two sidecars negotiate on a meshed TCP connection to
// exchange their workloads' metadata in a frame ahead of the app's bytes
// (proxy/workload/peer_exchange.h); a peer that does not select it gets none.
inline constexpr char kPeerExchangeAlpn[] = "weft-peer-exchange/1";

// The ConfigMap weft-control publishes the trust bundle in, in every
// namespace, and its key; the injector mounts it for the sidecar's CA calls.
inline constexpr char kTrustBundleConfigMap[] = "weft-ca-root-cert";
inline constexpr char kTrustBundleConfigMapKey[] = "root-cert.pem";

// weft-control runs as this service account in this namespace; proxies pin
// the CA's certificate to the SPIFFE ID they make.
inline constexpr char kControlPlaneNamespace[] = "weft-system";
inline constexpr char kControlPlaneServiceAccount[] = "weft-control";
inline constexpr char kDefaultControlPlaneIdentity[] =
    "spiffe://cluster.local/ns/weft-system/sa/weft-control";

}  // namespace weft::mesh
