#include "proxy/translate/translate_route.h"

#include <map>
#include <set>

#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "proxy/translate/translate_matcher.h"
#include "proxy/translate/translate_util.h"

namespace weft::translate {

namespace core_v3 = envoy::config::core::v3;
namespace route_v3 = envoy::config::route::v3;

namespace {

using core_v3::HeaderValueOption;

bool mutationFrom(const google::protobuf::RepeatedPtrField<HeaderValueOption>& add,
                  const google::protobuf::RepeatedPtrField<std::string>& remove,
                  const std::string& path, const char* add_field, config::HeaderMutation* out,
                  common::ErrorList& errors) {
  using Action = config::HeaderMutation::Action;
  bool ok = true;
  for (int i = 0; i < add.size(); ++i) {
    const auto& option = add[i];
    std::string opath = path + "." + add_field + "[" + std::to_string(i) + "]";
    config::HeaderMutation::Addition a;
    a.name = option.header().key();
    http::toLowerInPlace(a.name);
    a.value = option.header().value();
    if (a.name.empty()) {
      errors.add(opath + ".header.key", "a header name is required");
      ok = false;
    }
    if (option.has_append() &&
        option.append_action() != HeaderValueOption::APPEND_IF_EXISTS_OR_ADD) {
      errors.add(opath, "only one of append, append_action may be set");
      ok = false;
    }
    if (option.has_append()) {
      a.action = option.append().value() ? Action::kAppend : Action::kOverwrite;
    } else {
      switch (option.append_action()) {
        case HeaderValueOption::ADD_IF_ABSENT:
          a.action = Action::kAddIfAbsent;
          break;
        case HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD:
          a.action = Action::kOverwrite;
          break;
        case HeaderValueOption::OVERWRITE_IF_EXISTS:
          a.action = Action::kOverwriteIfExists;
          break;
        default:
          a.action = Action::kAppend;
      }
    }
    out->add.push_back(std::move(a));
  }
  for (const auto& name : remove) {
    std::string lowered = name;
    http::toLowerInPlace(lowered);
    out->remove.push_back(std::move(lowered));
  }
  return ok;
}

bool regexRewriteFrom(const envoy::type::matcher::v3::RegexMatchAndSubstitute& proto,
                      const std::string& path, config::RegexRewrite* out,
                      common::ErrorList& errors) {
  auto re = std::make_shared<re2::RE2>(proto.pattern().regex(), re2::RE2::Quiet);
  if (!re->ok()) {
    errors.add(path + ".pattern.regex", "invalid regex: " + re->error());
    return false;
  }
  std::string why;
  if (!re->CheckRewriteString(proto.substitution(), &why)) {
    errors.add(path + ".substitution", why);
    return false;
  }
  out->pattern = std::move(re);
  out->substitution = proto.substitution();
  return true;
}

bool redirectFrom(const route_v3::RedirectAction& proto, const std::string& path,
                  config::Redirect* out, common::ErrorList& errors) {
  using Kind = config::Redirect::PathKind;
  bool ok = true;
  if (proto.https_redirect()) out->scheme = "https";
  if (!proto.scheme_redirect().empty()) {
    out->scheme = proto.scheme_redirect();
    http::toLowerInPlace(out->scheme);
  }
  out->host = proto.host_redirect();
  if (proto.port_redirect() > 65535) {
    errors.add(path + ".port_redirect", "must be within 1..65535");
    ok = false;
  }
  out->port = proto.port_redirect();
  switch (proto.path_rewrite_specifier_case()) {
    case route_v3::RedirectAction::kPathRedirect:
      out->path_kind = Kind::kPath;
      out->path = proto.path_redirect();
      if (out->path.empty() || out->path.front() != '/') {
        errors.add(path + ".path_redirect", "must start with '/'");
        ok = false;
      }
      break;
    case route_v3::RedirectAction::kPrefixRewrite:
      out->path_kind = Kind::kPrefix;
      out->path = proto.prefix_rewrite();
      break;
    case route_v3::RedirectAction::kRegexRewrite:
      out->path_kind = Kind::kRegex;
      ok = regexRewriteFrom(proto.regex_rewrite(), path + ".regex_rewrite", &out->regex, errors) &&
           ok;
      break;
    case route_v3::RedirectAction::PATH_REWRITE_SPECIFIER_NOT_SET:
      break;
  }
  static constexpr int kStatus[] = {301, 302, 303, 307, 308};
  int code = static_cast<int>(proto.response_code());
  if (code < 0 || code > 4) {
    errors.add(path + ".response_code", "unknown response code " + std::to_string(code));
    ok = false;
  } else {
    out->status = kStatus[code];
  }
  out->strip_query = proto.strip_query();
  return ok;
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

bool hashPolicyFrom(const route_v3::RouteAction::HashPolicy& proto, const std::string& path,
                    std::vector<config::HashPolicy>* out, common::ErrorList& errors) {
  using Proto = route_v3::RouteAction::HashPolicy;
  config::HashPolicy policy;
  policy.terminal = proto.terminal();
  switch (proto.policy_specifier_case()) {
    case Proto::kHeader:
      policy.kind = config::HashPolicy::Kind::kHeader;
      policy.name = proto.header().header_name();
      http::toLowerInPlace(policy.name);
      if (policy.name.empty()) {
        errors.add(path + ".header.header_name", "is required");
        return false;
      }
      if (proto.header().has_regex_rewrite()) {
        errors.add(path + ".header.regex_rewrite", "not supported by weft");
        return false;
      }
      break;
    case Proto::kCookie:
      policy.kind = config::HashPolicy::Kind::kCookie;
      policy.name = proto.cookie().name();
      if (policy.name.empty()) {
        errors.add(path + ".cookie.name", "is required");
        return false;
      }
      if (proto.cookie().has_ttl()) policy.cookie_ttl_ms = durationMs(proto.cookie().ttl());
      policy.cookie_path = proto.cookie().path();
      break;
    case Proto::kConnectionProperties:
      if (!proto.connection_properties().source_ip()) {
        errors.add(path + ".connection_properties.source_ip",
                   "must be true (nothing else to hash)");
        return false;
      }
      policy.kind = config::HashPolicy::Kind::kSourceIp;
      break;
    case Proto::kQueryParameter:
      errors.add(path + ".query_parameter", "not supported by weft");
      return false;
    case Proto::kFilterState:
      errors.add(path + ".filter_state", "not supported by weft");
      return false;
    case Proto::POLICY_SPECIFIER_NOT_SET:
      errors.add(path, "one of header, cookie, connection_properties is required");
      return false;
  }
  out->push_back(std::move(policy));
  return true;
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
    case route_v3::RouteMatch::kPathSeparatedPrefix:
      out->path_kind = PathKind::kSeparatedPrefix;
      out->path = match.path_separated_prefix();
      if (out->path.empty() || out->path.front() != '/' ||
          out->path.find_first_of("?#") != std::string::npos ||
          (out->path.size() > 1 && out->path.back() == '/')) {
        errors.add(path + ".match.path_separated_prefix",
                   "must start with '/', not end with '/' and hold no '?' or '#'");
        ok = false;
      }
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
      errors.add(path + ".match",
                 "one of prefix, path, path_separated_prefix, safe_regex, connect_matcher is "
                 "required");
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
  for (int i = 0; i < match.query_parameters_size(); ++i) {
    const auto& q = match.query_parameters(i);
    std::string qpath = path + ".match.query_parameters[" + std::to_string(i) + "]";
    matcher::QueryParameterMatch qm;
    qm.name = q.name();
    if (qm.name.empty()) {
      errors.add(qpath + ".name", "a parameter name is required");
      ok = false;
      continue;
    }
    switch (q.query_parameter_match_specifier_case()) {
      case route_v3::QueryParameterMatcher::kStringMatch:
        if (!stringMatchFrom(q.string_match(), qpath + ".string_match", &qm.match, errors)) {
          ok = false;
          continue;
        }
        break;
      case route_v3::QueryParameterMatcher::kPresentMatch:
        if (!q.present_match()) {
          errors.add(qpath + ".present_match", "false matches nothing; leave it out");
          ok = false;
          continue;
        }
        qm.match.kind = matcher::StringMatch::Kind::kPresent;
        break;
      case route_v3::QueryParameterMatcher::QUERY_PARAMETER_MATCH_SPECIFIER_NOT_SET:
        errors.add(qpath, "one of string_match, present_match is required");
        ok = false;
        continue;
    }
    out->query_parameters.push_back(std::move(qm));
  }
  ok = mutationFrom(proto.request_headers_to_add(), proto.request_headers_to_remove(), path,
                    "request_headers_to_add", &out->request_mutation, errors) &&
       ok;
  ok = mutationFrom(proto.response_headers_to_add(), proto.response_headers_to_remove(), path,
                    "response_headers_to_add", &out->response_mutation, errors) &&
       ok;
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
  if (proto.has_redirect()) {
    config::Redirect redirect;
    ok = redirectFrom(proto.redirect(), path + ".redirect", &redirect, errors) && ok;
    if (redirect.path_kind == config::Redirect::PathKind::kPrefix &&
        out->path_kind != PathKind::kPrefix && out->path_kind != PathKind::kSeparatedPrefix) {
      errors.add(path + ".redirect.prefix_rewrite", "needs a prefix match");
      ok = false;
    }
    out->redirect = std::move(redirect);
    return ok;
  }
  if (!proto.has_route()) {
    errors.add(path, "one of route, redirect, direct_response is required");
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
      config::WeightedTarget target;
      target.cluster = c.name();
      target.weight = c.has_weight() ? c.weight().value() : 0;
      ok = mutationFrom(c.request_headers_to_add(), c.request_headers_to_remove(), cpath,
                        "request_headers_to_add", &target.request_mutation, errors) &&
           ok;
      ok = mutationFrom(c.response_headers_to_add(), c.response_headers_to_remove(), cpath,
                        "response_headers_to_add", &target.response_mutation, errors) &&
           ok;
      out->total_weight += target.weight;
      out->weighted_clusters.push_back(std::move(target));
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
  if (action.has_regex_rewrite()) {
    if (!out->prefix_rewrite.empty()) {
      errors.add(path + ".route.regex_rewrite", "only one of prefix_rewrite, regex_rewrite");
      ok = false;
    }
    config::RegexRewrite rewrite;
    ok =
        regexRewriteFrom(action.regex_rewrite(), path + ".route.regex_rewrite", &rewrite, errors) &&
        ok;
    out->regex_rewrite = std::move(rewrite);
  }
  out->host_rewrite = action.host_rewrite_literal();
  for (int i = 0; i < action.request_mirror_policies_size(); ++i) {
    const auto& m = action.request_mirror_policies(i);
    std::string mpath = path + ".route.request_mirror_policies[" + std::to_string(i) + "]";
    config::MirrorPolicy mirror;
    mirror.cluster = m.cluster();
    if (mirror.cluster.empty()) {
      errors.add(mpath + ".cluster", "cluster name is required");
      ok = false;
    }
    if (m.has_runtime_fraction()) {
      if (!m.runtime_fraction().runtime_key().empty()) {
        errors.add(mpath + ".runtime_fraction.runtime_key", "weft has no runtime; leave it out");
        ok = false;
      }
      mirror.per_million = perMillion(m.runtime_fraction().default_value());
      if (mirror.per_million > 1000000) {
        errors.add(mpath + ".runtime_fraction.default_value", "is over 100%");
        ok = false;
      }
    }
    out->mirrors.push_back(std::move(mirror));
  }
  for (int i = 0; i < action.hash_policy_size(); ++i) {
    ok = hashPolicyFrom(action.hash_policy(i),
                        path + ".route.hash_policy[" + std::to_string(i) + "]", &out->hash_policies,
                        errors) &&
         ok;
  }
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
  config::HeaderMutation request_mutation;
  config::HeaderMutation response_mutation;
  ok = mutationFrom(proto.request_headers_to_add(), proto.request_headers_to_remove(), path,
                    "request_headers_to_add", &request_mutation, errors) &&
       ok;
  ok = mutationFrom(proto.response_headers_to_add(), proto.response_headers_to_remove(), path,
                    "response_headers_to_add", &response_mutation, errors) &&
       ok;
  if (!ok) return nullptr;
  return std::make_shared<config::RouteTable>(
      proto.name(), std::move(vhosts), std::move(request_mutation), std::move(response_mutation));
}

}  // namespace weft::translate
