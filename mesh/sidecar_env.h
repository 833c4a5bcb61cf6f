#pragma once

// The environment of an injected sidecar: written by weft-injector (and
// `weftctl inject`) into the proxy container, read by `weft-proxy sidecar`.

#include <cstdint>

namespace weft::mesh::sidecar_env {

inline constexpr char kPodName[] = "WEFT_POD_NAME";
inline constexpr char kPodNamespace[] = "WEFT_POD_NAMESPACE";
inline constexpr char kPodIp[] = "WEFT_POD_IP";
inline constexpr char kServiceAccount[] = "WEFT_SERVICE_ACCOUNT";
inline constexpr char kXdsAddress[] = "WEFT_XDS_ADDRESS";
inline constexpr char kCaAddress[] = "WEFT_CA_ADDRESS";
inline constexpr char kCaRootCert[] = "WEFT_CA_ROOT_CERT";
inline constexpr char kCaTokenFile[] = "WEFT_CA_TOKEN_FILE";
inline constexpr char kCaIdentity[] = "WEFT_CA_IDENTITY";
inline constexpr char kTrustDomain[] = "WEFT_TRUST_DOMAIN";
inline constexpr char kConcurrency[] = "WEFT_CONCURRENCY";
inline constexpr char kOutboundPort[] = "WEFT_OUTBOUND_PORT";
inline constexpr char kInboundPort[] = "WEFT_INBOUND_PORT";
inline constexpr char kAdminPort[] = "WEFT_ADMIN_PORT";
inline constexpr char kStatusPort[] = "WEFT_STATUS_PORT";
inline constexpr char kInterception[] = "WEFT_INTERCEPTION";
inline constexpr char kDrainTimeS[] = "WEFT_DRAIN_TIME_S";
inline constexpr char kExitWithApp[] = "WEFT_EXIT_WITH_APP";
// The app probes the sidecar performs for the kubelet (mesh/app_probes.h).
inline constexpr char kAppProbes[] = "WEFT_APP_PROBES";
// Who the workload is (Istio's metric labels), read off the pod by the injector.
inline constexpr char kWorkloadName[] = "WEFT_WORKLOAD_NAME";
inline constexpr char kApp[] = "WEFT_APP";
inline constexpr char kVersion[] = "WEFT_VERSION";
inline constexpr char kCanonicalService[] = "WEFT_CANONICAL_SERVICE";
inline constexpr char kCanonicalRevision[] = "WEFT_CANONICAL_REVISION";
inline constexpr char kClusterId[] = "WEFT_CLUSTER_ID";

// The ports both sides assume when nothing says otherwise (Istio's).
inline constexpr uint16_t kDefaultOutboundPort = 15001;
inline constexpr uint16_t kDefaultInboundPort = 15006;
inline constexpr uint16_t kDefaultAdminPort = 15000;
inline constexpr uint16_t kDefaultStatusPort = 15020;

}  // namespace weft::mesh::sidecar_env
