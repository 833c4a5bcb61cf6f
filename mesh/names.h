#pragma once

// Names both binaries must agree on: SDS secret names and weft-control's
// own identity.

namespace weft::mesh {

// The trust bundle weft-control serves over SDS (Istio's name).
inline constexpr char kTrustBundleSecret[] = "ROOTCA";
// The proxy's own workload certificate, as listeners and clusters name it.
inline constexpr char kWorkloadSecret[] = "default";

// weft-control runs as this service account in this namespace; proxies pin
// the CA's certificate to the SPIFFE ID they make.
inline constexpr char kControlPlaneNamespace[] = "weft-system";
inline constexpr char kControlPlaneServiceAccount[] = "weft-control";
inline constexpr char kDefaultControlPlaneIdentity[] =
    "spiffe://cluster.local/ns/weft-system/sa/weft-control";

}  // namespace weft::mesh
