#pragma once

// The keys of the xDS node metadata a sidecar sends (written by
// `weft-proxy sidecar` and the bootstrap, read by weft-control's translator
// and by the proxy itself): what the control plane knows about the pod.

namespace weft::mesh::node_metadata {

inline constexpr char kServiceAccount[] = "SERVICE_ACCOUNT";  // the pod's service account
inline constexpr char kOutboundPort[] = "OUTBOUND_PORT";      // where intercepted outbound lands
inline constexpr char kOutboundIp[] = "OUTBOUND_IP";          // explicit-proxy mode: its IP
inline constexpr char kInboundPort[] = "INBOUND_PORT";        // where intercepted inbound lands
inline constexpr char kAppIp[] = "APP_IP";                    // the app's address, if not loopback
inline constexpr char kInterception[] = "INTERCEPTION";       // "iptables" when rules redirect
inline constexpr char kPodIp[] = "POD_IP";
// Who the workload is, for Istio's metric labels (the injector reads them off
// the pod: owner, labels app / version / service.istio.io/canonical-*).
inline constexpr char kWorkloadName[] = "WORKLOAD_NAME";
inline constexpr char kApp[] = "APP";
inline constexpr char kVersion[] = "VERSION";
inline constexpr char kCanonicalService[] = "CANONICAL_SERVICE";
inline constexpr char kCanonicalRevision[] = "CANONICAL_REVISION";
inline constexpr char kClusterId[] = "CLUSTER_ID";
inline constexpr char kAdminAddress[] = "ADMIN_ADDRESS";  // for the control plane's status view

}  // namespace weft::mesh::node_metadata
