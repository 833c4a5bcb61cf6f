#include "proxy/translate/translate.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <map>
#include <set>

#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "proxy/translate/translate_rbac.h"
#include "proxy/translate/translate_tls.h"

namespace weft::translate {

namespace cluster_v3 = envoy::config::cluster::v3;
namespace route_v3 = envoy::config::route::v3;
namespace listener_v3 = envoy::config::listener::v3;
namespace hcm_v3 = envoy::extensions::filters::network::http_connection_manager::v3;
namespace tcp_v3 = envoy::extensions::filters::network::tcp_proxy::v3;

namespace {

constexpr char kHcmName[] = "envoy.filters.network.http_connection_manager";
constexpr char kRouterName[] = "envoy.filters.http.router";
constexpr char kHttpProtocolOptionsKey[] = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

uint64_t durationMs(const google::protobuf::Duration& d) {
  return static_cast<uint64_t>(google::protobuf::util::TimeUtil::DurationToMilliseconds(d));
}

std::string typeName(const google::protobuf::Any& any) {
  const std::string& url = any.type_url();
  size_t slash = url.rfind('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

bool addressFrom(const envoy::config::core::v3::Address& proto, const std::string& path,
                 network::Address* out, common::ErrorList& errors) {
  if (!proto.has_socket_address()) {
    errors.add(path, "socket_address is required");
    return false;
  }
  const auto& sa = proto.socket_address();
  if (sa.protocol() != envoy::config::core::v3::SocketAddress::TCP) {
    errors.add(path + ".socket_address.protocol", "only TCP is supported");
    return false;
  }
  if (sa.port_value() > 65535) {
    errors.add(path + ".socket_address.port_value", "port out of range");
    return false;
  }
  auto address = network::Address::fromIpPort(sa.address(), static_cast<uint16_t>(sa.port_value()));
  if (!address) {
    errors.add(path + ".socket_address.address",
               "'" + sa.address() + "' is not an IP address (DNS names are not supported)");
    return false;
  }
  *out = *address;
  return true;
}

}  // namespace

bool stringMatchFrom(const envoy::type::matcher::v3::StringMatcher& proto, const std::string& path,
                     matcher::StringMatch* out, common::ErrorList& errors) {
  using Kind = matcher::StringMatch::Kind;
  out->ignore_case = proto.ignore_case();
  switch (proto.match_pattern_case()) {
    case envoy::type::matcher::v3::StringMatcher::kExact:
      out->kind = Kind::kExact;
      out->value = proto.exact();
      return true;
    case envoy::type::matcher::v3::StringMatcher::kPrefix:
      out->kind = Kind::kPrefix;
      out->value = proto.prefix();
      return true;
    case envoy::type::matcher::v3::StringMatcher::kSuffix:
      out->kind = Kind::kSuffix;
      out->value = proto.suffix();
      return true;
    case envoy::type::matcher::v3::StringMatcher::kContains:
      out->kind = Kind::kContains;
      out->value = proto.contains();
      return true;
    case envoy::type::matcher::v3::StringMatcher::kSafeRegex: {
      out->kind = Kind::kRegex;
      auto re = std::make_shared<re2::RE2>(proto.safe_regex().regex(), re2::RE2::Quiet);
      if (!re->ok()) {
        errors.add(path + ".safe_regex.regex", "invalid regex: " + re->error());
        return false;
      }
      out->regex = std::move(re);
      return true;
    }
    case envoy::type::matcher::v3::StringMatcher::MATCH_PATTERN_NOT_SET:
      break;
  }
  errors.add(path, "one of exact, prefix, suffix, contains, safe_regex is required");
  return false;
}

bool headerMatchFrom(const route_v3::HeaderMatcher& proto, const std::string& path,
                     matcher::HeaderMatch* out, common::ErrorList& errors) {
  using Kind = matcher::StringMatch::Kind;
  if (proto.name().empty()) {
    errors.add(path + ".name", "header name is required");
    return false;
  }
  out->name = proto.name();
  http::toLowerInPlace(out->name);
  out->invert = proto.invert_match();
  switch (proto.header_match_specifier_case()) {
    case route_v3::HeaderMatcher::kExactMatch:
      out->match.kind = Kind::kExact;
      out->match.value = proto.exact_match();
      return true;
    case route_v3::HeaderMatcher::kPrefixMatch:
      out->match.kind = Kind::kPrefix;
      out->match.value = proto.prefix_match();
      return true;
    case route_v3::HeaderMatcher::kSuffixMatch:
      out->match.kind = Kind::kSuffix;
      out->match.value = proto.suffix_match();
      return true;
    case route_v3::HeaderMatcher::kContainsMatch:
      out->match.kind = Kind::kContains;
      out->match.value = proto.contains_match();
      return true;
    case route_v3::HeaderMatcher::kPresentMatch:
      out->match.kind = Kind::kPresent;
      if (!proto.present_match()) out->invert = !out->invert;
      return true;
    case route_v3::HeaderMatcher::kSafeRegexMatch: {
      envoy::type::matcher::v3::StringMatcher sm;
      *sm.mutable_safe_regex() = proto.safe_regex_match();
      return stringMatchFrom(sm, path + ".safe_regex_match", &out->match, errors);
    }
    case route_v3::HeaderMatcher::kStringMatch:
      return stringMatchFrom(proto.string_match(), path + ".string_match", &out->match, errors);
    case route_v3::HeaderMatcher::HEADER_MATCH_SPECIFIER_NOT_SET:
      out->match.kind = Kind::kPresent;  // Envoy: no specifier means "present"
      return true;
  }
  return false;
}

namespace {

config::HeaderMutation mutationFrom(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& add,
    const google::protobuf::RepeatedPtrField<std::string>& remove) {
  config::HeaderMutation m;
  for (const auto& option : add) {
    std::string name = option.header().key();
    http::toLowerInPlace(name);
    m.set.emplace_back(std::move(name), option.header().value());
  }
  for (const auto& name : remove) {
    std::string lowered = name;
    http::toLowerInPlace(lowered);
    m.remove.push_back(std::move(lowered));
  }
  return m;
}

uint32_t perMillion(const envoy::type::v3::FractionalPercent& p) {
  switch (p.denominator()) {
    case envoy::type::v3::FractionalPercent::HUNDRED:
      return p.numerator() * 10000;
    case envoy::type::v3::FractionalPercent::TEN_THOUSAND:
      return p.numerator() * 100;
    default:
      return p.numerator();
  }
}

bool faultFrom(const google::protobuf::Any& any, const std::string& path, config::FaultConfig* out,
               common::ErrorList& errors) {
  envoy::extensions::filters::http::fault::v3::HTTPFault fault;
  if (!any.UnpackTo(&fault)) {
    errors.add(path, "is not an envoy.extensions.filters.http.fault.v3.HTTPFault");
    return false;
  }
  bool ok = true;
  if (fault.has_delay()) {
    out->delay_ms = durationMs(fault.delay().fixed_delay());
    // Envoy's default percentage when absent is 100%.
    out->delay_per_million =
        fault.delay().has_percentage() ? perMillion(fault.delay().percentage()) : 1000000;
  }
  if (fault.has_abort()) {
    const auto& abort = fault.abort();
    out->abort_per_million = abort.has_percentage() ? perMillion(abort.percentage()) : 1000000;
    if (abort.error_type_case() ==
        envoy::extensions::filters::http::fault::v3::FaultAbort::kGrpcStatus) {
      out->abort_grpc_status = static_cast<int>(abort.grpc_status());
      out->abort_http_status = 200;
    } else {
      out->abort_http_status = static_cast<int>(abort.http_status());
      if (out->abort_http_status < 200 || out->abort_http_status > 599) {
        errors.add(path + ".abort.http_status", "must be within 200..599");
        ok = false;
      }
    }
  }
  if (out->delay_per_million > 1000000 || out->abort_per_million > 1000000) {
    errors.add(path, "a percentage is over 100%");
    ok = false;
  }
  return ok;
}

bool retryPolicyFrom(const route_v3::RetryPolicy& proto, const std::string& path,
                     config::RetryPolicy* out, common::ErrorList& errors) {
  using On = config::RetryPolicy::On;
  static const std::map<std::string, uint32_t> kConditions = {
      {"5xx", On::k5xx},
      {"gateway-error", On::kGatewayError},
      {"reset", On::kReset},
      {"connect-failure", On::kConnectFailure},
      {"retriable-status-codes", On::kRetriableStatusCodes},
      {"cancelled", On::kGrpcCancelled},
      {"deadline-exceeded", On::kGrpcDeadlineExceeded},
      {"resource-exhausted", On::kGrpcResourceExhausted},
      {"unavailable", On::kGrpcUnavailable},
  };
  bool ok = true;
  std::string list = proto.retry_on();
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string token = list.substr(start, comma - start);
    token.erase(0, token.find_first_not_of(' '));
    token.erase(token.find_last_not_of(' ') + 1);
    if (!token.empty()) {
      auto it = kConditions.find(token);
      if (it == kConditions.end()) {
        errors.add(path + ".retry_on", "unsupported condition '" + token + "'");
        ok = false;
      } else {
        out->retry_on |= it->second;
      }
    }
    start = comma + 1;
  }
  if (proto.has_num_retries()) out->num_retries = proto.num_retries().value();
  if (proto.has_per_try_timeout()) out->per_try_timeout_ms = durationMs(proto.per_try_timeout());
  for (uint32_t code : proto.retriable_status_codes()) out->retriable_status_codes.push_back(code);
  if (proto.has_retry_back_off()) {
    const auto& b = proto.retry_back_off();
    if (b.has_base_interval()) {
      out->backoff_base_ms = durationMs(b.base_interval());
      out->backoff_max_ms = out->backoff_base_ms * 10;
    }
    if (b.has_max_interval()) out->backoff_max_ms = durationMs(b.max_interval());
    if (out->backoff_base_ms == 0 || out->backoff_max_ms < out->backoff_base_ms) {
      errors.add(path + ".retry_back_off", "base_interval must be > 0 and <= max_interval");
      ok = false;
    }
  }
  return ok;
}

bool routeFrom(const route_v3::Route& proto, const std::string& path, config::RouteEntry* out,
               common::ErrorList& errors) {
  using PathKind = config::RouteEntry::PathKind;
  bool ok = true;
  out->name = proto.name();
  const auto& match = proto.match();
  switch (match.path_specifier_case()) {
    case route_v3::RouteMatch::kPrefix:
      out->path_kind = PathKind::kPrefix;
      out->path = match.prefix();
      break;
    case route_v3::RouteMatch::kPath:
      out->path_kind = PathKind::kExact;
      out->path = match.path();
      break;
    case route_v3::RouteMatch::kSafeRegex: {
      out->path_kind = PathKind::kRegex;
      auto re = std::make_shared<re2::RE2>(match.safe_regex().regex(), re2::RE2::Quiet);
      if (!re->ok()) {
        errors.add(path + ".match.safe_regex.regex", "invalid regex: " + re->error());
        ok = false;
      }
      out->path_regex = std::move(re);
      break;
    }
    case route_v3::RouteMatch::kConnectMatcher:
      out->path_kind = PathKind::kConnect;
      break;
    case route_v3::RouteMatch::PATH_SPECIFIER_NOT_SET:
      errors.add(path + ".match", "one of prefix, path, safe_regex, connect_matcher is required");
      ok = false;
  }
  if (match.has_case_sensitive()) out->case_sensitive = match.case_sensitive().value();
  if (match.has_grpc()) {
    matcher::HeaderMatch grpc;
    grpc.name = "content-type";
    grpc.match.kind = matcher::StringMatch::Kind::kPrefix;
    grpc.match.value = "application/grpc";
    out->headers.push_back(std::move(grpc));
  }
  for (int i = 0; i < match.headers_size(); ++i) {
    matcher::HeaderMatch hm;
    if (headerMatchFrom(match.headers(i), path + ".match.headers[" + std::to_string(i) + "]", &hm,
                        errors)) {
      out->headers.push_back(std::move(hm));
    } else {
      ok = false;
    }
  }
  out->request_mutation =
      mutationFrom(proto.request_headers_to_add(), proto.request_headers_to_remove());
  out->response_mutation =
      mutationFrom(proto.response_headers_to_add(), proto.response_headers_to_remove());
  for (const auto& [name, any] : proto.typed_per_filter_config()) {
    std::string fpath = path + ".typed_per_filter_config[\"" + name + "\"]";
    if (name != "envoy.filters.http.fault") {
      errors.add(fpath, "weft has per-route configuration only for envoy.filters.http.fault");
      ok = false;
      continue;
    }
    config::FaultConfig fault;
    if (faultFrom(any, fpath, &fault, errors)) {
      out->fault = fault;
    } else {
      ok = false;
    }
  }

  if (proto.has_direct_response()) {
    out->direct_status = proto.direct_response().status();
    if (out->direct_status < 200 || out->direct_status > 599) {
      errors.add(path + ".direct_response.status", "must be within 200..599");
      ok = false;
    }
    const auto& body = proto.direct_response().body();
    if (body.has_inline_string()) {
      out->direct_body = body.inline_string();
    } else if (body.has_inline_bytes()) {
      out->direct_body = body.inline_bytes();
    } else if (body.specifier_case() != envoy::config::core::v3::DataSource::SPECIFIER_NOT_SET) {
      errors.add(path + ".direct_response.body",
                 "only inline_string and inline_bytes are supported");
      ok = false;
    }
    return ok;
  }
  if (!proto.has_route()) {
    errors.add(path, "one of route, direct_response is required");
    return false;
  }
  const auto& action = proto.route();
  if (action.has_weighted_clusters()) {
    const auto& wc = action.weighted_clusters();
    if (wc.clusters_size() == 0) {
      errors.add(path + ".route.weighted_clusters.clusters", "at least one cluster is required");
      ok = false;
    }
    for (int i = 0; i < wc.clusters_size(); ++i) {
      const auto& c = wc.clusters(i);
      std::string cpath = path + ".route.weighted_clusters.clusters[" + std::to_string(i) + "]";
      if (c.name().empty()) {
        errors.add(cpath + ".name", "cluster name is required");
        ok = false;
      }
      uint32_t weight = c.has_weight() ? c.weight().value() : 0;
      out->weighted_clusters.push_back({c.name(), weight});
      out->total_weight += weight;
    }
    if (wc.clusters_size() > 0 && out->total_weight == 0) {
      errors.add(path + ".route.weighted_clusters", "weights sum to zero");
      ok = false;
    }
    if (wc.has_total_weight() && wc.total_weight().value() != out->total_weight) {
      errors.add(path + ".route.weighted_clusters.total_weight",
                 "is " + std::to_string(wc.total_weight().value()) + " but the weights sum to " +
                     std::to_string(out->total_weight));
      ok = false;
    }
  } else if (!action.cluster().empty()) {
    out->cluster = action.cluster();
  } else {
    errors.add(path + ".route", "one of cluster, weighted_clusters is required");
    ok = false;
  }
  if (action.has_timeout()) out->timeout_ms = durationMs(action.timeout());
  out->prefix_rewrite = action.prefix_rewrite();
  out->host_rewrite = action.host_rewrite_literal();
  if (action.has_idle_timeout()) out->idle_timeout_ms = durationMs(action.idle_timeout());
  if (action.has_retry_policy() &&
      !retryPolicyFrom(action.retry_policy(), path + ".route.retry_policy", &out->retry, errors)) {
    ok = false;
  }
  return ok;
}

}  // namespace

bool translateLoadAssignment(const envoy::config::endpoint::v3::ClusterLoadAssignment& la,
                             const std::string& path, std::vector<config::HostConfig>* hosts,
                             common::ErrorList& errors) {
  bool ok = true;
  for (int i = 0; i < la.endpoints_size(); ++i) {
    const auto& locality = la.endpoints(i);
    for (int j = 0; j < locality.lb_endpoints_size(); ++j) {
      const auto& lbe = locality.lb_endpoints(j);
      std::string epath =
          path + ".endpoints[" + std::to_string(i) + "].lb_endpoints[" + std::to_string(j) + "]";
      if (!lbe.has_endpoint()) {
        errors.add(epath, "endpoint is required");
        ok = false;
        continue;
      }
      config::HostConfig host;
      if (!addressFrom(lbe.endpoint().address(), epath + ".endpoint.address", &host.address,
                       errors)) {
        ok = false;
        continue;
      }
      if (lbe.has_load_balancing_weight()) host.weight = lbe.load_balancing_weight().value();
      if (host.weight == 0) {
        errors.add(epath + ".load_balancing_weight", "must be at least 1");
        ok = false;
        continue;
      }
      if (lbe.health_status() == envoy::config::core::v3::UNHEALTHY ||
          lbe.health_status() == envoy::config::core::v3::DRAINING) {
        continue;  // not eligible for new requests
      }
      hosts->push_back(host);
    }
  }
  return ok;
}

bool translateCluster(const cluster_v3::Cluster& proto, const std::string& path,
                      config::ClusterConfig* out, common::ErrorList& errors,
                      const envoy::config::endpoint::v3::ClusterLoadAssignment* eds,
                      const SecretResolver* secrets) {
  bool ok = true;
  if (proto.name().empty()) {
    errors.add(path + ".name", "cluster name is required");
    ok = false;
  }
  out->name = proto.name();
  if (proto.type() == cluster_v3::Cluster::EDS) {
    const auto& source = proto.eds_cluster_config().eds_config();
    if (!source.has_ads()) {
      errors.add(path + ".eds_cluster_config.eds_config", "only ads: {} is supported");
      ok = false;
    }
    if (proto.has_load_assignment()) {
      errors.add(path + ".load_assignment", "an EDS cluster takes its endpoints from EDS");
      ok = false;
    }
    if (eds != nullptr &&
        !translateLoadAssignment(*eds, "ClusterLoadAssignment '" + eds->cluster_name() + "'",
                                 &out->hosts, errors)) {
      ok = false;
    }
  } else if (proto.type() == cluster_v3::Cluster::STATIC) {
    if (proto.has_eds_cluster_config()) {
      errors.add(path + ".eds_cluster_config", "only EDS clusters take eds_cluster_config");
      ok = false;
    }
    if (!translateLoadAssignment(proto.load_assignment(), path + ".load_assignment", &out->hosts,
                                 errors)) {
      ok = false;
    }
  } else if (proto.type() == cluster_v3::Cluster::ORIGINAL_DST) {
    out->original_dst = true;
    if (proto.lb_policy() != cluster_v3::Cluster::CLUSTER_PROVIDED) {
      errors.add(path + ".lb_policy", "an ORIGINAL_DST cluster needs lb_policy CLUSTER_PROVIDED");
      ok = false;
    }
    if (proto.has_load_assignment()) {
      errors.add(path + ".load_assignment", "an ORIGINAL_DST cluster has no endpoints of its own");
      ok = false;
    }
  } else {
    errors.add(path + ".type", "only STATIC, EDS and ORIGINAL_DST clusters are supported");
    ok = false;
  }
  switch (out->original_dst ? cluster_v3::Cluster::ROUND_ROBIN : proto.lb_policy()) {
    case cluster_v3::Cluster::ROUND_ROBIN:
      out->lb_policy = config::LbPolicy::kRoundRobin;
      break;
    case cluster_v3::Cluster::LEAST_REQUEST:
      out->lb_policy = config::LbPolicy::kLeastRequest;
      if (proto.has_least_request_lb_config() &&
          proto.least_request_lb_config().has_choice_count()) {
        out->least_request_choices = proto.least_request_lb_config().choice_count().value();
        if (out->least_request_choices < 2) {
          errors.add(path + ".least_request_lb_config.choice_count", "must be at least 2");
          ok = false;
        }
      }
      break;
    default:
      errors.add(path + ".lb_policy", "only ROUND_ROBIN and LEAST_REQUEST are supported");
      ok = false;
  }
  if (proto.has_connect_timeout()) {
    out->connect_timeout_ms = durationMs(proto.connect_timeout());
    if (out->connect_timeout_ms == 0) {
      errors.add(path + ".connect_timeout", "must be greater than 0");
      ok = false;
    }
  }
  if (proto.has_max_requests_per_connection()) {
    out->max_requests_per_connection = proto.max_requests_per_connection().value();
  }
  if (proto.has_common_http_protocol_options() &&
      proto.common_http_protocol_options().has_idle_timeout()) {
    out->idle_timeout_ms = durationMs(proto.common_http_protocol_options().idle_timeout());
  }
  if (proto.has_http2_protocol_options()) out->protocol = config::UpstreamProtocol::kHttp2;
  for (const auto& [key, any] : proto.typed_extension_protocol_options()) {
    std::string opath = path + ".typed_extension_protocol_options[\"" + key + "\"]";
    envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
    if (key != kHttpProtocolOptionsKey || !any.UnpackTo(&options)) {
      errors.add(opath,
                 "unsupported extension (only " + std::string(kHttpProtocolOptionsKey) + ")");
      ok = false;
      continue;
    }
    if (options.has_explicit_http_config() &&
        options.explicit_http_config().has_http2_protocol_options()) {
      out->protocol = config::UpstreamProtocol::kHttp2;
    }
    if (options.common_http_protocol_options().has_idle_timeout()) {
      out->idle_timeout_ms = durationMs(options.common_http_protocol_options().idle_timeout());
    }
  }
  for (const auto& t : proto.circuit_breakers().thresholds()) {
    if (t.priority() != envoy::config::core::v3::DEFAULT) continue;
    if (t.has_max_connections()) out->max_connections = t.max_connections().value();
    if (t.has_max_pending_requests()) out->max_pending_requests = t.max_pending_requests().value();
    if (t.has_max_requests()) out->max_requests = t.max_requests().value();
    if (t.has_max_retries()) {
      out->max_retries = t.max_retries().value();
      out->retry_budget_enabled = t.has_retry_budget();
    }
    if (t.has_retry_budget()) {
      if (t.retry_budget().has_budget_percent()) {
        out->retry_budget_percent = t.retry_budget().budget_percent().value();
      }
      if (t.retry_budget().has_min_retry_concurrency()) {
        out->min_retry_concurrency = t.retry_budget().min_retry_concurrency().value();
      }
    }
  }
  if (proto.has_outlier_detection()) {
    const auto& od = proto.outlier_detection();
    auto& o = out->outlier;
    o.enabled = true;
    if (od.has_consecutive_5xx()) o.consecutive_5xx = od.consecutive_5xx().value();
    if (od.has_consecutive_gateway_failure()) {
      o.consecutive_gateway_failure = od.consecutive_gateway_failure().value();
    }
    if (od.has_enforcing_consecutive_5xx())
      o.enforce_5xx = od.enforcing_consecutive_5xx().value() > 0;
    if (od.has_enforcing_consecutive_gateway_failure()) {
      o.enforce_gateway_failure = od.enforcing_consecutive_gateway_failure().value() > 0;
    }
    if (od.has_base_ejection_time()) o.base_ejection_time_ms = durationMs(od.base_ejection_time());
    if (od.has_max_ejection_time()) o.max_ejection_time_ms = durationMs(od.max_ejection_time());
    if (od.has_max_ejection_percent()) {
      o.max_ejection_percent = od.max_ejection_percent().value();
      if (o.max_ejection_percent > 100) {
        errors.add(path + ".outlier_detection.max_ejection_percent", "must be within 0..100");
        ok = false;
      }
    }
    if (od.has_interval() && durationMs(od.interval()) == 0) {
      errors.add(path + ".outlier_detection.interval", "must be greater than 0");
      ok = false;
    }
  }
  if (proto.has_transport_socket() &&
      !transportSocketFrom(proto.transport_socket(), false, path + ".transport_socket", secrets,
                           errors, &out->tls)) {
    ok = false;
  }
  return ok;
}

std::shared_ptr<const config::RouteTable> translateRouteConfiguration(
    const route_v3::RouteConfiguration& proto, const std::string& path, common::ErrorList& errors) {
  bool ok = true;
  std::vector<config::VirtualHost> vhosts;
  std::set<std::string> seen_domains;
  for (int i = 0; i < proto.virtual_hosts_size(); ++i) {
    const auto& vh = proto.virtual_hosts(i);
    std::string vpath = path + ".virtual_hosts[" + std::to_string(i) + "]";
    config::VirtualHost out;
    out.name = vh.name();
    if (vh.domains_size() == 0) {
      errors.add(vpath + ".domains", "at least one domain is required");
      ok = false;
    }
    for (const auto& d : vh.domains()) {
      std::string domain = d;
      http::toLowerInPlace(domain);
      if (!seen_domains.insert(domain).second) {
        errors.add(vpath + ".domains", "domain '" + d + "' appears in more than one virtual host");
        ok = false;
      }
      out.domains.push_back(std::move(domain));
    }
    if (vh.has_retry_policy()) {
      errors.add(vpath + ".retry_policy", "not implemented by weft yet");
      ok = false;
    }
    for (int j = 0; j < vh.routes_size(); ++j) {
      config::RouteEntry entry;
      if (routeFrom(vh.routes(j), vpath + ".routes[" + std::to_string(j) + "]", &entry, errors)) {
        out.routes.push_back(std::move(entry));
      } else {
        ok = false;
      }
    }
    vhosts.push_back(std::move(out));
  }
  if (!ok) return nullptr;
  return std::make_shared<config::RouteTable>(
      proto.name(), std::move(vhosts),
      mutationFrom(proto.request_headers_to_add(), proto.request_headers_to_remove()),
      mutationFrom(proto.response_headers_to_add(), proto.response_headers_to_remove()));
}

namespace {
bool httpFilterFrom(const hcm_v3::HttpConnectionManager& hcm, const std::string& path,
                    common::ErrorList& errors, std::optional<config::FaultConfig>* fault,
                    rbac::RbacEnginePtr* rbac) {
  bool ok = true;
  if (hcm.http_filters_size() == 0) {
    errors.add(path + ".http_filters", "the envoy.filters.http.router filter is required");
    return false;
  }
  for (int i = 0; i < hcm.http_filters_size(); ++i) {
    const auto& f = hcm.http_filters(i);
    std::string fpath = path + ".http_filters[" + std::to_string(i) + "]";
    bool is_router = f.name() == kRouterName ||
                     (f.has_typed_config() && typeName(f.typed_config()) ==
                                                  "envoy.extensions.filters.http.router.v3.Router");
    bool is_fault = f.has_typed_config() && typeName(f.typed_config()) ==
                                                "envoy.extensions.filters.http.fault.v3.HTTPFault";
    bool is_rbac = f.has_typed_config() &&
                   typeName(f.typed_config()) == "envoy.extensions.filters.http.rbac.v3.RBAC";
    if (is_rbac && i != hcm.http_filters_size() - 1) {
      envoy::extensions::filters::http::rbac::v3::RBAC config;
      f.typed_config().UnpackTo(&config);
      if (config.has_shadow_rules()) {
        errors.add(fpath + ".typed_config.shadow_rules", "not supported");
        ok = false;
      }
      if (config.has_rules() &&
          !rbacFrom(config.rules(), fpath + ".typed_config.rules", rbac, errors)) {
        ok = false;
      }
    } else if (is_fault && i != hcm.http_filters_size() - 1) {
      config::FaultConfig config;
      if (faultFrom(f.typed_config(), fpath + ".typed_config", &config, errors)) {
        *fault = config;
      } else {
        ok = false;
      }
    } else if (!is_router) {
      errors.add(fpath, "unknown HTTP filter '" + f.name() + "'");
      ok = false;
    } else if (i != hcm.http_filters_size() - 1) {
      errors.add(fpath, "the router filter must be the last HTTP filter");
      ok = false;
    }
  }
  return ok;
}
}  // namespace

namespace {
constexpr char kHttpInspectorName[] = "envoy.filters.listener.http_inspector";
constexpr char kTlsInspectorName[] = "envoy.filters.listener.tls_inspector";

bool translateFilterChain(const listener_v3::FilterChain& chain, const std::string& cpath,
                          config::FilterChainConfig* out, common::ErrorList& errors,
                          const RouteResolver* routes, const SecretResolver* secrets) {
  bool ok = true;
  out->name = chain.name();
  {
    std::string bytes;
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    chain.SerializeToCodedStream(&coded);
    coded.Trim();
    out->fingerprint = std::to_string(std::hash<std::string>{}(bytes));
  }
  if (chain.has_filter_chain_match()) {
    const auto& match = chain.filter_chain_match();
    if (match.has_destination_port()) {
      if (match.destination_port().value() == 0 || match.destination_port().value() > 65535) {
        errors.add(cpath + ".filter_chain_match.destination_port", "port out of range");
        ok = false;
      }
      out->destination_port = static_cast<uint16_t>(match.destination_port().value());
    }
    for (const auto& protocol : match.application_protocols()) {
      if (protocol != "http/1.1" && protocol != "http/1.0" && protocol != "h2c") {
        errors.add(
            cpath + ".filter_chain_match.application_protocols",
            "'" + protocol + "' is not detectable without TLS (use http/1.1, http/1.0, h2c)");
        ok = false;
      }
      out->application_protocols.push_back(protocol);
    }
    if (match.server_names_size() > 0) {
      errors.add(cpath + ".filter_chain_match.server_names", "SNI matching needs TLS (not yet)");
      ok = false;
    }
    if (!match.transport_protocol().empty() && match.transport_protocol() != "raw_buffer" &&
        match.transport_protocol() != "tls") {
      errors.add(cpath + ".filter_chain_match.transport_protocol", "must be tls or raw_buffer");
      ok = false;
    }
    out->transport_protocol = match.transport_protocol();
  }
  if (chain.has_transport_socket() &&
      !transportSocketFrom(chain.transport_socket(), true, cpath + ".transport_socket", secrets,
                           errors, &out->tls)) {
    ok = false;
  }
  // Optionally envoy.filters.network.rbac, then the terminal filter.
  int terminal = 0;
  if (chain.filters_size() == 2 && chain.filters(0).has_typed_config() &&
      typeName(chain.filters(0).typed_config()) ==
          "envoy.extensions.filters.network.rbac.v3.RBAC") {
    envoy::extensions::filters::network::rbac::v3::RBAC config;
    chain.filters(0).typed_config().UnpackTo(&config);
    std::string rpath = cpath + ".filters[0].typed_config";
    if (config.has_shadow_rules() ||
        config.enforcement_type() !=
            envoy::extensions::filters::network::rbac::v3::RBAC::ONE_TIME_ON_FIRST_BYTE) {
      errors.add(rpath, "only rules with ONE_TIME_ON_FIRST_BYTE enforcement are supported");
      ok = false;
    }
    if (config.has_rules() && !rbacFrom(config.rules(), rpath + ".rules", &out->tcp_rbac, errors)) {
      ok = false;
    }
    terminal = 1;
  }
  if (chain.filters_size() != terminal + 1) {
    errors.add(cpath + ".filters",
               "one terminal network filter (http_connection_manager or tcp_proxy) is supported, "
               "optionally after envoy.filters.network.rbac");
    return false;
  }
  const auto& filter = chain.filters(terminal);
  std::string fpath = cpath + ".filters[" + std::to_string(terminal) + "]";
  if (!filter.has_typed_config()) {
    errors.add(fpath + ".typed_config", "is required");
    return false;
  }
  std::string type = typeName(filter.typed_config());
  if (type == hcm_v3::HttpConnectionManager::descriptor()->full_name()) {
    if (!filter.name().empty() && filter.name() != kHcmName &&
        filter.name() != "envoy.http_connection_manager") {
      errors.add(fpath + ".name", "'" + filter.name() + "' does not match its typed_config");
      ok = false;
    }
    hcm_v3::HttpConnectionManager hcm;
    filter.typed_config().UnpackTo(&hcm);
    std::string hpath = fpath + ".typed_config";
    out->is_http = true;
    if (out->tcp_rbac) {
      errors.add(cpath + ".filters[0]",
                 "with the HTTP connection manager, use the envoy.filters.http.rbac HTTP filter");
      ok = false;
    }
    out->http.stat_prefix = hcm.stat_prefix();
    switch (hcm.codec_type()) {
      case hcm_v3::HttpConnectionManager::AUTO:
        out->http.codec = config::CodecType::kAuto;
        break;
      case hcm_v3::HttpConnectionManager::HTTP1:
        out->http.codec = config::CodecType::kHttp1;
        break;
      case hcm_v3::HttpConnectionManager::HTTP2:
        out->http.codec = config::CodecType::kHttp2;
        break;
      default:
        errors.add(hpath + ".codec_type", "only AUTO, HTTP1 and HTTP2 are supported");
        ok = false;
    }
    if (hcm.has_max_request_headers_kb()) {
      out->http.max_request_headers_bytes = hcm.max_request_headers_kb().value() * 1024;
    }
    if (!httpFilterFrom(hcm, hpath, errors, &out->http.fault, &out->http.rbac)) ok = false;
    out->http.forward_client_cert =
        static_cast<config::ForwardClientCert>(hcm.forward_client_cert_details());
    if (hcm.forward_client_cert_details() > hcm_v3::HttpConnectionManager::ALWAYS_FORWARD_ONLY) {
      errors.add(hpath + ".forward_client_cert_details", "unknown value");
      ok = false;
    }
    const auto& details = hcm.set_current_client_cert_details();
    out->http.xfcc_uri = details.uri();
    if (details.subject().value() || details.cert() || details.chain() || details.dns()) {
      errors.add(hpath + ".set_current_client_cert_details",
                 "only uri is supported (By and Hash are always set)");
      ok = false;
    }
    if (hcm.has_rds()) {
      if (routes == nullptr) {
        errors.add(hpath + ".rds", "RDS needs dynamic_resources with ads_config");
        ok = false;
      } else if (!hcm.rds().config_source().has_ads()) {
        errors.add(hpath + ".rds.config_source", "only ads: {} is supported");
        ok = false;
      } else if (hcm.rds().route_config_name().empty()) {
        errors.add(hpath + ".rds.route_config_name", "is required");
        ok = false;
      } else {
        out->http.rds_name = hcm.rds().route_config_name();
        out->http.routes = (*routes)(out->http.rds_name);
      }
    } else if (hcm.has_route_config()) {
      auto table = translateRouteConfiguration(hcm.route_config(), hpath + ".route_config", errors);
      if (table == nullptr) ok = false;
      out->http.routes = std::move(table);
    } else {
      errors.add(hpath, "route_config is required");
      ok = false;
    }
    for (const auto& upgrade : hcm.upgrade_configs()) {
      std::string type_name = upgrade.upgrade_type();
      http::toLowerInPlace(type_name);
      bool enabled = !upgrade.has_enabled() || upgrade.enabled().value();
      if (enabled) out->http.upgrade_types.push_back(type_name);
    }
    if (hcm.has_common_http_protocol_options()) {
      const auto& common = hcm.common_http_protocol_options();
      if (common.has_idle_timeout()) out->http.idle_timeout_ms = durationMs(common.idle_timeout());
      if (common.has_max_headers_count()) {
        out->http.max_headers_count = common.max_headers_count().value();
        if (out->http.max_headers_count == 0) {
          errors.add(hpath + ".common_http_protocol_options.max_headers_count", "must be >= 1");
          ok = false;
        }
      }
      if (common.has_max_connection_duration() || common.has_max_stream_duration()) {
        errors.add(hpath + ".common_http_protocol_options",
                   "only idle_timeout and max_headers_count are implemented by weft yet");
        ok = false;
      }
    }
    if (hcm.has_stream_idle_timeout()) {
      out->http.stream_idle_timeout_ms = durationMs(hcm.stream_idle_timeout());
    }
    if (hcm.has_request_timeout()) out->http.request_timeout_ms = durationMs(hcm.request_timeout());
    if (hcm.has_request_headers_timeout()) {
      out->http.request_headers_timeout_ms = durationMs(hcm.request_headers_timeout());
    }
    out->http.use_remote_address = hcm.use_remote_address().value();
    out->http.skip_xff_append = hcm.skip_xff_append();
    out->http.xff_num_trusted_hops = hcm.xff_num_trusted_hops();
    if ((hcm.skip_xff_append() || hcm.xff_num_trusted_hops() > 0) &&
        !hcm.use_remote_address().value()) {
      // Accepting them would do nothing: x-forwarded-for is only touched at the edge.
      errors.add(hpath + (hcm.skip_xff_append() ? ".skip_xff_append" : ".xff_num_trusted_hops"),
                 "has an effect only with use_remote_address: true");
      ok = false;
    }
    for (const char* unsupported :
         {"drain_timeout", "server_name", "http_protocol_options", "http2_protocol_options"}) {
      const auto* field = hcm.GetDescriptor()->FindFieldByName(unsupported);
      bool set = field->is_repeated() ? hcm.GetReflection()->FieldSize(hcm, field) > 0
                                      : hcm.GetReflection()->HasField(hcm, field);
      if (set) {
        errors.add(hpath + "." + unsupported, "not implemented by weft yet");
        ok = false;
      }
    }
  } else if (type == tcp_v3::TcpProxy::descriptor()->full_name()) {
    tcp_v3::TcpProxy tcp;
    filter.typed_config().UnpackTo(&tcp);
    out->is_http = false;
    out->tcp_cluster = tcp.cluster();
    if (tcp.cluster().empty()) {
      errors.add(fpath + ".typed_config.cluster", "is required");
      ok = false;
    }
    if (tcp.has_idle_timeout()) out->tcp_idle_timeout_ms = durationMs(tcp.idle_timeout());
  } else {
    errors.add(fpath + ".typed_config", "unsupported network filter type '" + type + "'");
    ok = false;
  }
  return ok;
}
}  // namespace

std::vector<std::string> rdsNames(const listener_v3::Listener& proto) {
  std::vector<std::string> names;
  auto collect = [&](const listener_v3::FilterChain& chain) {
    for (const auto& filter : chain.filters()) {
      hcm_v3::HttpConnectionManager hcm;
      if (filter.has_typed_config() && filter.typed_config().UnpackTo(&hcm) && hcm.has_rds()) {
        names.push_back(hcm.rds().route_config_name());
      }
    }
  };
  for (const auto& chain : proto.filter_chains()) collect(chain);
  if (proto.has_default_filter_chain()) collect(proto.default_filter_chain());
  return names;
}

bool translateListener(const listener_v3::Listener& proto, const std::string& path,
                       config::ListenerConfig* out, common::ErrorList& errors,
                       const RouteResolver* routes, const SecretResolver* secrets) {
  bool ok = true;
  out->name = proto.name();
  if (proto.name().empty()) {
    errors.add(path + ".name", "listener name is required");
    ok = false;
  }
  if (!addressFrom(proto.address(), path + ".address", &out->address, errors)) ok = false;
  for (int i = 0; i < proto.listener_filters_size(); ++i) {
    const auto& lf = proto.listener_filters(i);
    if (lf.name() == kHttpInspectorName ||
        (lf.has_typed_config() &&
         typeName(lf.typed_config()) ==
             "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector")) {
      out->inspect_http = true;
    } else if (lf.name() == kTlsInspectorName ||
               (lf.has_typed_config() &&
                typeName(lf.typed_config()) ==
                    "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector")) {
      out->inspect_tls = true;
    } else {
      errors.add(path + ".listener_filters[" + std::to_string(i) + "]",
                 "unsupported listener filter '" + lf.name() + "' (weft has " + kHttpInspectorName +
                     ", " + kTlsInspectorName + ")");
      ok = false;
    }
  }
  if (proto.has_listener_filters_timeout()) {
    out->inspect_timeout_ms = durationMs(proto.listener_filters_timeout());
  }
  out->use_original_dst = proto.has_use_original_dst() && proto.use_original_dst().value();
  out->bind_to_port = !proto.has_bind_to_port() || proto.bind_to_port().value();
  if (proto.has_api_listener()) {
    errors.add(path + ".api_listener", "not supported");
    ok = false;
  }
  if (proto.has_per_connection_buffer_limit_bytes()) {
    out->buffer_limit_bytes = proto.per_connection_buffer_limit_bytes().value();
  }
  if (proto.filter_chains_size() == 0 && !proto.has_default_filter_chain()) {
    errors.add(path + ".filter_chains", "at least one filter chain is required");
    return false;
  }
  for (int i = 0; i < proto.filter_chains_size(); ++i) {
    config::FilterChainConfig chain;
    if (translateFilterChain(proto.filter_chains(i),
                             path + ".filter_chains[" + std::to_string(i) + "]", &chain, errors,
                             routes, secrets)) {
      out->filter_chains.push_back(std::move(chain));
    } else {
      ok = false;
    }
  }
  if (proto.has_default_filter_chain()) {
    config::FilterChainConfig chain;
    if (translateFilterChain(proto.default_filter_chain(), path + ".default_filter_chain", &chain,
                             errors, routes, secrets)) {
      out->default_filter_chain = std::move(chain);
    } else {
      ok = false;
    }
  }
  return ok;
}

std::string validateDynamicResources(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                     common::ErrorList& errors) {
  const auto& dr = bootstrap.dynamic_resources();
  const auto& ads = dr.ads_config();
  if (!dr.has_ads_config()) {
    errors.add("dynamic_resources.ads_config", "is required (weft speaks aggregated xDS)");
    return "";
  }
  if (ads.api_type() != envoy::config::core::v3::ApiConfigSource::GRPC &&
      ads.api_type() != envoy::config::core::v3::ApiConfigSource::DELTA_GRPC) {
    errors.add("dynamic_resources.ads_config.api_type", "must be GRPC or DELTA_GRPC");
  }
  if (ads.grpc_services_size() != 1 || !ads.grpc_services(0).has_envoy_grpc()) {
    errors.add("dynamic_resources.ads_config.grpc_services",
               "exactly one envoy_grpc service naming a static cluster is required");
    return "";
  }
  for (const auto* source : {&dr.lds_config(), &dr.cds_config()}) {
    bool set = source == &dr.lds_config() ? dr.has_lds_config() : dr.has_cds_config();
    if (set && !source->has_ads()) {
      errors.add(source == &dr.lds_config() ? "dynamic_resources.lds_config"
                                            : "dynamic_resources.cds_config",
                 "only ads: {} is supported");
    }
  }
  return ads.grpc_services(0).envoy_grpc().cluster_name();
}

config::SnapshotPtr buildSnapshot(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                  const DynamicResources* dynamic, common::ErrorList& errors,
                                  std::vector<std::string>* missing) {
  auto snapshot = std::make_shared<config::Snapshot>();
  snapshot->node_id = bootstrap.node().id();
  if (bootstrap.has_admin()) {
    network::Address admin;
    if (addressFrom(bootstrap.admin().address(), "admin.address", &admin, errors)) {
      snapshot->admin_address = admin.ip();
      snapshot->admin_port = admin.port();
    }
  }
  if (bootstrap.has_dynamic_resources()) {
    std::string xds_cluster = validateDynamicResources(bootstrap, errors);
    bool found = false;
    for (const auto& c : bootstrap.static_resources().clusters()) found |= c.name() == xds_cluster;
    if (!xds_cluster.empty() && !found) {
      errors.add("dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name",
                 "'" + xds_cluster + "' is not a static cluster");
    }
  }
  const auto& sr = bootstrap.static_resources();
  // Secrets: the bootstrap's, then those received (SDS) or made here (the
  // workload certificate). A static reference must resolve; a dynamic one
  // warms until its secret arrives.
  SecretResolver secrets = [&](const std::string& name, const std::string& where)
      -> const envoy::extensions::transport_sockets::tls::v3::Secret* {
    for (const auto& secret : sr.secrets()) {
      if (secret.name() == name) return &secret;
    }
    if (dynamic != nullptr) {
      auto it = dynamic->secrets.find(name);
      if (it != dynamic->secrets.end()) return &it->second;
      if (missing != nullptr) missing->push_back("Secret " + name);
      return nullptr;
    }
    errors.add(where, "unknown secret '" + name + "'");
    return nullptr;
  };
  for (int i = 0; i < sr.clusters_size(); ++i) {
    auto cluster = std::make_shared<config::ClusterConfig>();
    std::string path = "static_resources.clusters[" + std::to_string(i) + "]";
    if (!translateCluster(sr.clusters(i), path, cluster.get(), errors, nullptr, &secrets)) continue;
    if (snapshot->clusters.count(cluster->name)) {
      errors.add(path + ".name", "duplicate cluster name '" + cluster->name + "'");
      continue;
    }
    snapshot->clusters[cluster->name] = cluster;
  }
  size_t static_clusters = snapshot->clusters.size();
  if (dynamic != nullptr) {
    for (const auto& [name, proto] : dynamic->clusters) {
      auto cluster = std::make_shared<config::ClusterConfig>();
      const envoy::config::endpoint::v3::ClusterLoadAssignment* eds = nullptr;
      if (proto.type() == cluster_v3::Cluster::EDS) {
        std::string eds_name = proto.eds_cluster_config().service_name().empty()
                                   ? proto.name()
                                   : proto.eds_cluster_config().service_name();
        auto it = dynamic->endpoints.find(eds_name);
        if (it != dynamic->endpoints.end()) {
          eds = &it->second;
        } else if (missing != nullptr) {
          missing->push_back("ClusterLoadAssignment " + eds_name);
        }
      }
      if (!translateCluster(proto, "Cluster '" + name + "'", cluster.get(), errors, eds,
                            &secrets)) {
        continue;
      }
      if (snapshot->clusters.count(name)) {
        errors.add("Cluster '" + name + "'", "has the name of a static cluster");
        continue;
      }
      snapshot->clusters[name] = cluster;
    }
  }

  // RDS: route tables compiled once each, shared by every listener using them.
  std::map<std::string, std::shared_ptr<const config::RouteTable>> compiled_routes;
  RouteResolver resolve =
      [&](const std::string& name) -> std::shared_ptr<const config::RouteTable> {
    auto done = compiled_routes.find(name);
    if (done != compiled_routes.end()) return done->second;
    auto it = dynamic->routes.find(name);
    if (it == dynamic->routes.end()) {
      if (missing != nullptr) missing->push_back("RouteConfiguration " + name);
      return nullptr;
    }
    auto table =
        translateRouteConfiguration(it->second, "RouteConfiguration '" + name + "'", errors);
    compiled_routes[name] = table;
    return table;
  };

  std::set<std::string> listener_names;
  auto add_listener = [&](const listener_v3::Listener& proto, const std::string& path,
                          bool is_static) {
    config::ListenerConfig listener;
    if (!translateListener(proto, path, &listener, errors, dynamic ? &resolve : nullptr,
                           &secrets)) {
      return;
    }
    if (!listener_names.insert(listener.name).second) {
      errors.add(path + ".name", "duplicate listener name '" + listener.name + "'");
      return;
    }
    // A static configuration must be whole: every referenced cluster exists
    // (Envoy's validate_clusters). Dynamic routes may name clusters that come
    // later: those requests get 503 until then, as with Envoy.
    auto require = [&](const std::string& cluster, const std::string& where) {
      if (is_static && !cluster.empty() && snapshot->clusters.count(cluster) == 0 &&
          sr.clusters_size() == static_cast<int>(static_clusters)) {
        errors.add(where, "unknown cluster '" + cluster + "'");
      }
    };
    auto check_chain = [&](const config::FilterChainConfig& chain, const std::string& cpath) {
      if (chain.is_http && chain.http.routes && chain.http.rds_name.empty()) {
        const auto& vhs = chain.http.routes->virtualHosts();
        for (size_t v = 0; v < vhs.size(); ++v) {
          for (size_t r = 0; r < vhs[v].routes.size(); ++r) {
            const auto& route = vhs[v].routes[r];
            std::string rpath = cpath + ".filters[0].typed_config.route_config.virtual_hosts[" +
                                std::to_string(v) + "].routes[" + std::to_string(r) + "]";
            require(route.cluster, rpath + ".route.cluster");
            for (const auto& w : route.weighted_clusters) {
              require(w.cluster, rpath + ".route.weighted_clusters");
            }
          }
        }
      } else if (!chain.is_http) {
        require(chain.tcp_cluster, cpath + " tcp_proxy.cluster");
      }
    };
    for (size_t c = 0; c < listener.filter_chains.size(); ++c) {
      check_chain(listener.filter_chains[c], path + ".filter_chains[" + std::to_string(c) + "]");
    }
    if (listener.default_filter_chain) {
      check_chain(*listener.default_filter_chain, path + ".default_filter_chain");
    }
    snapshot->listeners.push_back(std::move(listener));
  };
  for (int i = 0; i < sr.listeners_size(); ++i) {
    add_listener(sr.listeners(i), "static_resources.listeners[" + std::to_string(i) + "]", true);
  }
  if (dynamic != nullptr) {
    for (const auto& [name, proto] : dynamic->listeners) {
      add_listener(proto, "Listener '" + name + "'", false);
    }
  }
  if (!errors.empty()) return nullptr;
  for (auto& [name, table] : compiled_routes) {
    if (table) snapshot->route_tables[name] = table;
  }
  return snapshot;
}

config::SnapshotPtr translateBootstrap(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                       common::ErrorList& errors) {
  DynamicResources none;
  auto snapshot = buildSnapshot(bootstrap, bootstrap.has_dynamic_resources() ? &none : nullptr,
                                errors, nullptr);
  if (snapshot == nullptr) return nullptr;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  auto mutable_snapshot = std::const_pointer_cast<config::Snapshot>(snapshot);
  google::protobuf::util::MessageToJsonString(bootstrap, &mutable_snapshot->config_dump_json,
                                              print);
  return snapshot;
}

}  // namespace weft::translate
