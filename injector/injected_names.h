#pragma once

// The names the injection adds to a pod: annotations, containers, volumes
// and their mount points. Also how an injected pod is recognised.

namespace weft::injector {

inline constexpr char kInjectAnnotation[] = "weft.dev/inject";
inline constexpr char kStatusAnnotation[] = "weft.dev/status";
inline constexpr char kProxyName[] = "weft-proxy";
inline constexpr char kInitName[] = "weft-init";
inline constexpr char kRuntimeVolume[] = "weft-runtime";
inline constexpr char kTokenVolume[] = "weft-token";
inline constexpr char kTokenDir[] = "/var/run/secrets/weft/tokens";
// The trust bundle's volume, from weft-control's mesh::kTrustBundleConfigMap.
inline constexpr char kRootVolume[] = "weft-ca-root";
inline constexpr char kRootDir[] = "/var/run/secrets/weft/ca";
inline constexpr char kRuntimeDir[] = "/var/run/weft";

}  // namespace weft::injector
