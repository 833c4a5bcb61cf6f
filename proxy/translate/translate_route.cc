#include "proxy/translate/translate_route.h"

#include <map>
#include <set>

#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "proxy/translate/translate_matcher.h"
#include "proxy/translate/translate_util.h"

namespace weft::translate {

namespace route_v3 = envoy::config::route::v3;

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

}  // namespace weft::translate
