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

// Envoy's request/response_headers_to_add and _to_remove: removals first,
// then each addition as its append_action says.
struct HeaderMutation {
  enum class Action { kAppend, kAddIfAbsent, kOverwrite, kOverwriteIfExists };
  struct Addition {
    std::string name;  // lower case
    std::string value;
    Action action = Action::kAppend;
  };
  std::vector<Addition> add;
  std::vector<std::string> remove;
  bool empty() const { return add.empty() && remove.empty(); }
  void apply(http::HeaderMap& headers) const;
};

struct WeightedTarget {
  std::string cluster;
  uint32_t weight = 0;
  // Applied when this target is picked, before the route's own.
  HeaderMutation request_mutation;
  HeaderMutation response_mutation;
};

// A regex rewrite (Envoy's RegexMatchAndSubstitute): every match replaced.
struct RegexRewrite {
  std::shared_ptr<const re2::RE2> pattern;
  std::string substitution;
  std::string apply(std::string_view input) const;
};

// Envoy's RedirectAction: the route answers with a Location built from the
// request's URL with these parts replaced.
struct Redirect {
  enum class PathKind { kKeep, kPath, kPrefix, kRegex };
  std::string scheme;  // empty: the request's
  std::string host;    // empty: the request's
  uint32_t port = 0;   // 0: the request's, or the scheme's default when the scheme changes
  PathKind path_kind = PathKind::kKeep;
  std::string path;  // kPath: the new path; kPrefix: what replaces the matched prefix
  RegexRewrite regex;
  int status = 301;
  bool strip_query = false;
};

// Envoy's RequestMirrorPolicy: a copy of a share of the requests.
struct MirrorPolicy {
  std::string cluster;
  uint32_t per_million = 1000000;
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

// One of a route's hash_policy entries: what a RING_HASH / MAGLEV cluster
// hashes the request on. Hashes of several policies are combined; a policy
// that finds nothing adds nothing; a terminal one that found something ends
// the list.
struct HashPolicy {
  enum class Kind { kHeader, kCookie, kSourceIp };
  Kind kind = Kind::kHeader;
  std::string name;  // the header (lower case) or cookie
  // Cookie with a ttl: when the request has none, one is made up, hashed on
  // and set on the response (0: a session cookie).
  std::optional<uint64_t> cookie_ttl_ms;
  std::string cookie_path;
  bool terminal = false;
};

struct RouteEntry {
  // kSeparatedPrefix: Envoy's path_separated_prefix, whole segments only
  // ("/a" matches "/a" and "/a/b", not "/ab"), the Gateway API's PathPrefix.
  enum class PathKind { kPrefix, kSeparatedPrefix, kExact, kRegex, kConnect };
  std::string name;
  PathKind path_kind = PathKind::kPrefix;
  std::string path;
  bool case_sensitive = true;
  std::shared_ptr<const re2::RE2> path_regex;
  std::vector<matcher::HeaderMatch> headers;
  std::vector<matcher::QueryParameterMatch> query_parameters;

  // Action: a cluster, weighted clusters, a redirect or a direct response.
  std::string cluster;
  std::vector<WeightedTarget> weighted_clusters;
  uint64_t total_weight = 0;
  uint32_t direct_status = 0;
  std::string direct_body;
  std::optional<Redirect> redirect;

  uint64_t timeout_ms = 15000;  // Envoy's default route timeout; 0 disables
  // route.idle_timeout: replaces the connection manager's stream_idle_timeout
  // for this route's streams (0: none).
  std::optional<uint64_t> idle_timeout_ms;
  RetryPolicy retry;
  std::optional<FaultConfig> fault;  // typed_per_filter_config["envoy.filters.http.fault"]
  std::string prefix_rewrite;
  std::optional<RegexRewrite> regex_rewrite;  // of the path without its query
  std::string host_rewrite;
  std::vector<MirrorPolicy> mirrors;
  std::vector<HashPolicy> hash_policies;
  HeaderMutation request_mutation;
  HeaderMutation response_mutation;

  bool matches(const http::HeaderMap& headers) const;
  // The weighted target for one request (`random` picks), or nullptr when
  // the route has a single cluster.
  const WeightedTarget* pickWeighted(uint64_t random) const;
  // The location a redirect route answers `request` with.
  std::string redirectLocation(const http::HeaderMap& request) const;
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
