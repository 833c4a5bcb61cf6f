#pragma once

// Immutable description of an upstream cluster, built from an Envoy Cluster
// (and its ClusterLoadAssignment) and shared by every worker.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/network/address.h"
#include "common/tls/tls_context.h"
#include "proxy/dns/dns_target.h"

namespace weft::config {

// kRingHash, kMaglev: consistent hashing on the hash a route's hash_policy
// computes for the request (random without one).
enum class LbPolicy { kRoundRobin, kLeastRequest, kRingHash, kMaglev };
enum class UpstreamProtocol { kHttp1, kHttp2 };

struct HostConfig {
  network::Address address;
  uint32_t weight = 1;
};

// Envoy's OutlierDetection, the consecutive-error detectors.
struct OutlierConfig {
  bool enabled = false;
  uint32_t consecutive_5xx = 5;
  uint32_t consecutive_gateway_failure = 5;
  bool enforce_5xx = true;
  bool enforce_gateway_failure = false;  // Envoy: enforcing_consecutive_gateway_failure = 0
  uint64_t base_ejection_time_ms = 30000;
  uint64_t max_ejection_time_ms = 300000;
  uint32_t max_ejection_percent = 10;
};

// Steady-clock milliseconds, the same on every worker (outlier ejections).
uint64_t steadyNowMs();

struct ClusterConfig {
  std::string name;
  // The Service FQDN an Istio-named cluster ("outbound|80||reviews.shop.svc.cluster.local")
  // reaches, for Istio's metric labels and the peer-metadata header; empty otherwise.
  std::string service;
  std::vector<HostConfig> hosts;
  // ORIGINAL_DST: no hosts of its own; a connection goes where the client
  // meant it to go (the destination the interception rules redirected).
  bool original_dst = false;
  // STRICT_DNS / LOGICAL_DNS: the names `hosts` were resolved from (the
  // answers the DNS cache held when this snapshot was built; a changed
  // answer builds a new snapshot). LOGICAL_DNS: one name, its first address.
  struct DnsName {
    dns::DnsTarget target;
    uint16_t port = 0;
    uint32_t weight = 1;
  };
  std::vector<DnsName> dns_names;
  bool logical_dns = false;
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  uint32_t least_request_choices = 2;
  // Envoy's defaults: a ring of 1,024..8M points, a Maglev table of 65,537.
  uint64_t ring_min_size = 1024;
  uint64_t ring_max_size = 8 * 1024 * 1024;
  uint64_t maglev_table_size = 65537;
  uint64_t connect_timeout_ms = 5000;  // Envoy's default
  UpstreamProtocol protocol = UpstreamProtocol::kHttp1;
  // HTTP/2 with allow_connect: a request that upgrades (WebSocket) goes as an
  // RFC 8441 extended CONNECT on the shared connection; without it the
  // upgrade header is dropped, as HTTP/2 has no Upgrade.
  bool allow_connect = false;
  uint32_t max_requests_per_connection = 0;  // 0: unlimited
  // Idle upstream connections close after this; kept below the 60 s+ that
  // common app servers use, so the proxy closes first and never reuses a
  // connection the app is about to drop.
  uint64_t idle_timeout_ms = 55000;
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  uint32_t max_requests = 1024;
  uint32_t max_retries = 3;  // Envoy's default; caps retries in flight without a budget
  // Retry budget (default on): retries in flight may be at most this share of
  // the requests in flight, but never fewer than min_retry_concurrency.
  // Off only when a threshold sets max_retries and no retry_budget (Envoy's
  // rule: a budget, where there is one, replaces max_retries).
  bool retry_budget_enabled = true;
  double retry_budget_percent = 20.0;
  uint32_t min_retry_concurrency = 3;
  OutlierConfig outlier;
  tls::TlsContextPtr tls;  // transport_socket: originate TLS (mTLS to meshed endpoints)
  // Runtime state (breaker counters, ejections) is not here: it outlives
  // this config and lives in upstream/cluster_runtime.h.
};

using ClusterConfigPtr = std::shared_ptr<const ClusterConfig>;

}  // namespace weft::config
