#pragma once

// The compiled form of an Envoy RouteConfiguration: virtual hosts chosen by
// authority, then the first route whose path and header matchers all match.

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/http/header_map.h"
#include "proxy/matcher/matcher.h"

namespace weft::config {

struct WeightedTarget {
  std::string cluster;
  uint32_t weight = 0;
};

struct HeaderMutation {
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::string> remove;
  bool empty() const { return set.empty() && remove.empty(); }
  void apply(http::HeaderMap& headers) const;
};

// Envoy's RetryPolicy, compiled. retry_on conditions as bits.
struct RetryPolicy {
  enum On : uint32_t {
    k5xx = 1 << 0,
    kGatewayError = 1 << 1,
    kReset = 1 << 2,
    kConnectFailure = 1 << 3,
    kRetriableStatusCodes = 1 << 4,
    kGrpcCancelled = 1 << 5,
    kGrpcDeadlineExceeded = 1 << 6,
    kGrpcResourceExhausted = 1 << 7,
    kGrpcUnavailable = 1 << 8,
  };
  uint32_t retry_on = 0;
  uint32_t num_retries = 1;
  uint64_t per_try_timeout_ms = 0;  // 0: none (only the route timeout)
  std::vector<uint32_t> retriable_status_codes;
  uint64_t backoff_base_ms = 25;  // Envoy's defaults
  uint64_t backoff_max_ms = 250;

  bool enabled() const { return retry_on != 0 && num_retries > 0; }
};

// envoy.filters.http.fault: delay and/or abort a share of requests.
struct FaultConfig {
  uint32_t delay_per_million = 0;
  uint64_t delay_ms = 0;
  uint32_t abort_per_million = 0;
  int abort_http_status = 0;
  int abort_grpc_status = -1;  // >= 0: answer as gRPC with this status
  bool empty() const { return delay_per_million == 0 && abort_per_million == 0; }
};

struct RouteEntry {
  enum class PathKind { kPrefix, kExact, kRegex, kConnect };
  std::string name;
  PathKind path_kind = PathKind::kPrefix;
  std::string path;
  bool case_sensitive = true;
  std::shared_ptr<const re2::RE2> path_regex;
  std::vector<matcher::HeaderMatch> headers;

  // Action: a cluster, weighted clusters, or a direct response.
  std::string cluster;
  std::vector<WeightedTarget> weighted_clusters;
  uint64_t total_weight = 0;
  uint32_t direct_status = 0;
  std::string direct_body;

  uint64_t timeout_ms = 15000;  // Envoy's default route timeout; 0 disables
  // route.idle_timeout: replaces the connection manager's stream_idle_timeout
  // for this route's streams (0: none).
  std::optional<uint64_t> idle_timeout_ms;
  RetryPolicy retry;
  std::optional<FaultConfig> fault;  // typed_per_filter_config["envoy.filters.http.fault"]
  std::string prefix_rewrite;
  std::string host_rewrite;
  HeaderMutation request_mutation;
  HeaderMutation response_mutation;

  bool matches(const http::HeaderMap& headers) const;
  // The cluster for one request; `random` picks among weighted clusters.
  const std::string& pickCluster(uint64_t random) const;
};

struct VirtualHost {
  std::string name;
  std::vector<std::string> domains;  // "*", "*.suffix", "prefix.*" or exact
  std::vector<RouteEntry> routes;
};

class RouteTable {
 public:
  RouteTable(std::string name, std::vector<VirtualHost> virtual_hosts,
             HeaderMutation request_mutation, HeaderMutation response_mutation);

  const std::string& name() const { return name_; }
  // nullptr when no virtual host or route matches (404).
  const RouteEntry* route(const http::HeaderMap& headers) const;
  const std::vector<VirtualHost>& virtualHosts() const { return virtual_hosts_; }
  const HeaderMutation& requestMutation() const { return request_mutation_; }
  const HeaderMutation& responseMutation() const { return response_mutation_; }

 private:
  const VirtualHost* findVirtualHost(std::string_view authority) const;

  std::string name_;
  std::vector<VirtualHost> virtual_hosts_;
  HeaderMutation request_mutation_;
  HeaderMutation response_mutation_;
};

}  // namespace weft::config
