#pragma once

// Who a sidecar's workload is, in the terms Istio's standard metrics label
// (workload, namespace, app, version, canonical service and revision,
// cluster, SPIFFE principal), and the peer-metadata header two weft sidecars
// exchange so that both reporters of a call carry both sides' labels: the
// source sidecar sends its own metadata (and the service it routed to) on
// the request, the destination answers with its own on the response, and
// each removes the other's before the app sees it.
//
// Values are bounded by construction: at most kMaxValueLength characters of
// a Kubernetes label value's / DNS name's / SPIFFE ID's alphabet; anything
// else makes the whole header invalid (the peer is then "unknown").

#include <cstddef>
#include <string>
#include <string_view>

#include "api/envoy/config/core/v3/base.pb.h"

namespace weft::workload {

inline constexpr char kPeerMetadataHeader[] = "x-weft-peer-metadata";
inline constexpr char kUnknown[] = "unknown";
inline constexpr size_t kMaxValueLength = 253;

struct WorkloadMetadata {
  std::string workload;  // the Deployment / StatefulSet / ... , else the pod's name
  std::string namespace_name;
  std::string app;
  std::string version;
  std::string canonical_service;
  std::string canonical_revision;
  std::string cluster;    // the cluster ID (Istio's default: "Kubernetes")
  std::string principal;  // spiffe://TRUST_DOMAIN/ns/NS/sa/SA

  bool operator==(const WorkloadMetadata&) const = default;
  // True when nothing is known (a peer without a sidecar).
  bool empty() const { return workload.empty() && namespace_name.empty(); }
};

// The request's peer-metadata header: the source's workload and `service`,
// the FQDN of the Service it routed to (empty when none).
std::string encodePeerMetadata(const WorkloadMetadata& metadata, std::string_view service = {});

// Parses what encodePeerMetadata made; `service` receives its service (may
// be null). Unknown keys are skipped (a newer peer); a value out of the
// alphabet or too long fails the whole header with `error` naming it.
bool parsePeerMetadata(std::string_view header, WorkloadMetadata* metadata, std::string* service,
                       std::string* error);

// This proxy's own metadata, from the xDS node the sidecar announces (id
// "POD.NAMESPACE", metadata WORKLOAD_NAME, APP, VERSION, CANONICAL_SERVICE,
// CANONICAL_REVISION, CLUSTER_ID, SERVICE_ACCOUNT). What the node does not
// say follows Istio's defaults: the workload is the pod, the canonical
// service the app (else the workload), the canonical revision the version
// (else "latest"), the cluster "Kubernetes".
WorkloadMetadata localMetadataFromNode(const envoy::config::core::v3::Node& node,
                                       const std::string& trust_domain);

// The Service FQDN of an Istio-named cluster ("outbound|80|v2|reviews.shop.svc.cluster.local"
// -> "reviews.shop.svc.cluster.local"); empty for any other name.
std::string_view serviceOfCluster(std::string_view cluster_name);

// True when `value` may be a label value here (non-empty, bounded, and of
// the alphabet above).
bool validMetadataValue(std::string_view value);

}  // namespace weft::workload
