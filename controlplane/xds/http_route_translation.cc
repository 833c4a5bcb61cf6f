#include "controlplane/xds/http_route_translation.h"

#include <google/protobuf/util/time_util.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <tuple>

#include "controlplane/config/yaml_fields.h"
#include "controlplane/xds/load_balancing.h"
#include "controlplane/xds/translator.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"

namespace weft::control {

namespace core_v3 = envoy::config::core::v3;
namespace route_v3 = envoy::config::route::v3;
namespace matcher_v3 = envoy::type::matcher::v3;
using google::protobuf::util::TimeUtil;

namespace {

// One (hostname, match) of one rule, and what orders it among the others.
struct RouteCandidate {
  route_v3::Route route;
  // Hostname precedence: characters of a matching exact hostname, then of a
  // matching hostname (a wildcard); a route without hostnames has neither.
  size_t exact_host_length = 0;
  size_t host_length = 0;
  int path_rank = 0;         // 0 Exact, 1 RegularExpression, 2 PathPrefix
  size_t path_length = 0;    // GRPCRoute: of the service
  size_t method_length = 0;  // GRPCRoute only
  bool has_method = false;
  size_t header_count = 0;
  size_t query_count = 0;
  // Across routes: the oldest first (Kubernetes' RFC 3339 timestamps sort
  // as strings; a route without one, as from files, after those with one),
  // then "namespace/name"; within a route, the rule's place.
  const std::string* created = nullptr;
  std::string route_key;
  size_t rule_index = 0;
  size_t match_index = 0;
};

bool precedes(const RouteCandidate& a, const RouteCandidate& b) {
  auto specificity = [](const RouteCandidate& c) {
    return std::make_tuple(c.exact_host_length, c.host_length, -c.path_rank, c.path_length,
                           c.method_length, c.has_method, c.header_count, c.query_count);
  };
  auto sa = specificity(a), sb = specificity(b);
  if (sa != sb) return sa > sb;
  if (*a.created != *b.created) {
    if (a.created->empty() || b.created->empty()) return b.created->empty();
    return *a.created < *b.created;
  }
  if (a.route_key != b.route_key) return a.route_key < b.route_key;
  return std::tie(a.rule_index, a.match_index) < std::tie(b.rule_index, b.match_index);
}

// "*.example.com" matches any name under example.com (one label or more),
// as Gateway API hostnames do; names compare case-insensitively and the
// Host's port, if any, is not part of the name.
std::string hostnameRegex(const std::string& hostname) {
  std::string pattern = hostname.rfind("*.", 0) == 0 ? ".+\\." + RE2::QuoteMeta(hostname.substr(2))
                                                     : RE2::QuoteMeta(hostname);
  return "(?i)^" + pattern + "(:[0-9]+)?$";
}

// An RE2 substitution that yields `text` literally.
std::string literalSubstitution(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string withoutTrailingSlashes(std::string path) {
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

// Gateway API's ReplacePrefixMatch, which replaces whole path segments:
// prefix /foo -> /xyz turns /foo into /xyz, /foo/ into /xyz/ and /foo/bar
// into /xyz/bar; -> / turns /foo and /foo/ into / and /foo/bar into /bar.
void replacePrefix(const std::string& prefix, const std::string& replacement,
                   matcher_v3::RegexMatchAndSubstitute* out) {
  std::string quoted = RE2::QuoteMeta(withoutTrailingSlashes(prefix));
  std::string kept = withoutTrailingSlashes(replacement);
  if (kept.empty()) {
    out->mutable_pattern()->set_regex("^" + quoted + "/*(.*)$");
    out->set_substitution("/\\1");
  } else {
    out->mutable_pattern()->set_regex("^" + quoted + "(/.*)?$");
    out->set_substitution(literalSubstitution(kept) + "\\1");
  }
}

void replaceFullPath(const std::string& path, matcher_v3::RegexMatchAndSubstitute* out) {
  out->mutable_pattern()->set_regex("^.*$");
  out->set_substitution(literalSubstitution(path));
}

// A GRPCRoute method match as a :path match on "/SERVICE/METHOD": both
// exact, a path; the service alone, a prefix "/SERVICE/"; otherwise a
// regex over the whole path, either part "[^/]+" when not given.
void setGrpcPath(const HttpRouteMatch::GrpcMethod& method, route_v3::RouteMatch* m) {
  bool exact = method.type == "Exact";
  if (exact && !method.service.empty() && !method.method.empty()) {
    m->set_path("/" + method.service + "/" + method.method);
  } else if (exact && method.method.empty()) {
    m->set_prefix("/" + method.service + "/");
  } else {
    auto part = [exact](const std::string& value) {
      if (value.empty()) return std::string("[^/]+");
      return exact ? RE2::QuoteMeta(value) : "(?:" + value + ")";
    };
    m->mutable_safe_regex()->set_regex("/" + part(method.service) + "/" + part(method.method));
  }
}

void addMatch(route_v3::Route& route, const HttpRouteMatch& match, const std::string* hostname) {
  auto* m = route.mutable_match();
  if (match.grpc_method) {
    setGrpcPath(*match.grpc_method, m);
  } else if (match.path_type == "Exact") {
    m->set_path(match.path_value);
  } else if (match.path_type == "RegularExpression") {
    m->mutable_safe_regex()->set_regex(match.path_value);
  } else {
    // Gateway API prefixes are whole segments: /foo matches /foo and
    // /foo/bar, not /foobar.
    std::string prefix = withoutTrailingSlashes(match.path_value);
    if (prefix.empty()) {
      m->set_prefix("/");
    } else {
      m->set_path_separated_prefix(prefix);
    }
  }
  auto stringMatch = [](const HttpRouteMatch::Header& h, matcher_v3::StringMatcher* out) {
    if (h.type == "RegularExpression") {
      out->mutable_safe_regex()->set_regex(h.value);
    } else {
      out->set_exact(h.value);
    }
  };
  for (const auto& h : match.headers) {
    auto* hm = m->add_headers();
    hm->set_name(h.name);
    stringMatch(h, hm->mutable_string_match());
  }
  for (const auto& q : match.query_params) {
    auto* qm = m->add_query_parameters();
    qm->set_name(q.name);
    stringMatch(q, qm->mutable_string_match());
  }
  if (!match.method.empty()) {
    auto* hm = m->add_headers();
    hm->set_name(":method");
    hm->mutable_string_match()->set_exact(match.method);
  }
  if (hostname != nullptr) {
    auto* hm = m->add_headers();
    hm->set_name(":authority");
    hm->mutable_string_match()->mutable_safe_regex()->set_regex(hostnameRegex(*hostname));
  }
}

using HeaderOptions = google::protobuf::RepeatedPtrField<core_v3::HeaderValueOption>;
using HeaderNames = google::protobuf::RepeatedPtrField<std::string>;

void addModifier(const HeaderModifier& modifier, HeaderOptions* add, HeaderNames* remove) {
  auto option = [add](const std::pair<std::string, std::string>& header,
                      core_v3::HeaderValueOption::HeaderAppendAction action) {
    auto* o = add->Add();
    o->mutable_header()->set_key(header.first);
    o->mutable_header()->set_value(header.second);
    o->set_append_action(action);
  };
  for (const auto& h : modifier.set)
    option(h, core_v3::HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
  for (const auto& h : modifier.add) option(h, core_v3::HeaderValueOption::APPEND_IF_EXISTS_OR_ADD);
  for (const auto& name : modifier.remove) *remove->Add() = name;
}

const Service& backendOf(const ConfigSet& config, const HttpRoute& http_route,
                         const BackendRef& ref) {
  // Validation dropped routes whose backends do not exist.
  return *config.findService(ref.ns.empty() ? http_route.meta.ns : ref.ns, ref.name);
}

std::string backendCluster(const ConfigSet& config, const HttpRoute& http_route,
                           const BackendRef& ref) {
  const Service& backend = backendOf(config, http_route, ref);
  return outboundClusterName(backend, ref.port != 0 ? ref.port : backend.ports[0].port);
}

void setBackends(route_v3::RouteAction* action, const ConfigSet& config,
                 const HttpRoute& http_route, const HttpRouteRule& rule) {
  for (const auto& ref : rule.backend_refs) {
    if (ref.weight > 0) addHashPolicy(config, backendOf(config, http_route, ref), action);
  }
  bool filtered = false;
  size_t weighted = 0;
  for (const auto& ref : rule.backend_refs) {
    if (ref.weight > 0) ++weighted;
    filtered = filtered || ref.request_headers || ref.response_headers;
  }
  if (weighted == 1 && !filtered) {
    for (const auto& ref : rule.backend_refs) {
      if (ref.weight > 0) action->set_cluster(backendCluster(config, http_route, ref));
    }
    return;
  }
  for (const auto& ref : rule.backend_refs) {
    if (ref.weight == 0) continue;  // Gateway API: weight 0 gets no traffic
    auto* c = action->mutable_weighted_clusters()->add_clusters();
    c->set_name(backendCluster(config, http_route, ref));
    c->mutable_weight()->set_value(static_cast<uint32_t>(ref.weight));
    if (ref.request_headers) {
      addModifier(*ref.request_headers, c->mutable_request_headers_to_add(),
                  c->mutable_request_headers_to_remove());
    }
    if (ref.response_headers) {
      addModifier(*ref.response_headers, c->mutable_response_headers_to_add(),
                  c->mutable_response_headers_to_remove());
    }
  }
}

void setRetries(route_v3::RouteAction* action, const HttpRoute& http_route,
                const HttpRouteRule& rule) {
  // GEP-1731 retries. The Gateway API retries listed status codes; the
  // weft.dev/retry-on annotation adds conditions it cannot express yet
  // (connect-failure, reset, gRPC codes).
  auto extra = http_route.meta.annotations.find("weft.dev/retry-on");
  if (!rule.retry && extra == http_route.meta.annotations.end()) return;
  auto* policy = action->mutable_retry_policy();
  std::string on;
  if (rule.retry && !rule.retry->codes.empty()) on = "retriable-status-codes";
  if (extra != http_route.meta.annotations.end()) {
    on += (on.empty() ? "" : ",") + extra->second;
  }
  if (on.empty()) on = "connect-failure,reset";
  policy->set_retry_on(on);
  uint32_t attempts = rule.retry && rule.retry->attempts ? *rule.retry->attempts : 1;
  policy->mutable_num_retries()->set_value(attempts);
  if (rule.retry) {
    for (uint32_t code : rule.retry->codes) policy->add_retriable_status_codes(code);
    if (rule.retry->backoff_ms) {
      *policy->mutable_retry_back_off()->mutable_base_interval() =
          TimeUtil::MillisecondsToDuration(*rule.retry->backoff_ms);
    }
  }
  if (rule.backend_request_timeout_ms) {
    *policy->mutable_per_try_timeout() =
        TimeUtil::MillisecondsToDuration(*rule.backend_request_timeout_ms);
  }
}

void setRouteAction(route_v3::Route& route, const ConfigSet& config, const HttpRoute& http_route,
                    const HttpRouteRule& rule, const HttpRouteMatch& match) {
  auto* action = route.mutable_route();
  setBackends(action, config, http_route, rule);
  if (rule.url_rewrite) {
    const UrlRewrite& rewrite = *rule.url_rewrite;
    if (!rewrite.hostname.empty()) action->set_host_rewrite_literal(rewrite.hostname);
    if (rewrite.path && rewrite.path->type == "ReplaceFullPath") {
      replaceFullPath(rewrite.path->value, action->mutable_regex_rewrite());
    } else if (rewrite.path) {  // ReplacePrefixMatch: validation saw one PathPrefix match
      replacePrefix(match.path_value, rewrite.path->value, action->mutable_regex_rewrite());
    }
  }
  for (const auto& mirror : rule.mirrors) {
    auto* policy = action->add_request_mirror_policies();
    policy->set_cluster(backendCluster(config, http_route, mirror.backend));
    auto* share = policy->mutable_runtime_fraction()->mutable_default_value();
    share->set_numerator(mirror.per_million);
    share->set_denominator(envoy::type::v3::FractionalPercent::MILLION);
  }
  if (rule.request_timeout_ms) {
    *action->mutable_timeout() = TimeUtil::MillisecondsToDuration(*rule.request_timeout_ms);
  }
  setRetries(action, http_route, rule);
}

route_v3::RedirectAction::RedirectResponseCode redirectCode(int status) {
  switch (status) {
    case 301:
      return route_v3::RedirectAction::MOVED_PERMANENTLY;
    case 303:
      return route_v3::RedirectAction::SEE_OTHER;
    case 307:
      return route_v3::RedirectAction::TEMPORARY_REDIRECT;
    case 308:
      return route_v3::RedirectAction::PERMANENT_REDIRECT;
    default:  // 302, the Gateway API's default; validation allowed no other
      return route_v3::RedirectAction::FOUND;
  }
}

void setRedirect(route_v3::Route& route, const RequestRedirect& redirect,
                 const HttpRouteMatch& match, const ServicePort& port) {
  auto* r = route.mutable_redirect();
  if (!redirect.scheme.empty()) r->set_scheme_redirect(redirect.scheme);
  r->set_host_redirect(redirect.hostname);
  // Gateway API: the port given, else the scheme's well-known port when the
  // scheme changes, else the listener's: here the Service port. The proxy
  // leaves a scheme's default port out of the Location.
  uint32_t redirect_port = port.port;
  if (redirect.port) {
    redirect_port = *redirect.port;
  } else if (redirect.scheme == "https") {
    redirect_port = 443;
  } else if (redirect.scheme == "http") {
    redirect_port = 80;
  }
  r->set_port_redirect(redirect_port);
  if (redirect.path && redirect.path->type == "ReplaceFullPath") {
    r->set_path_redirect(redirect.path->value);
  } else if (redirect.path) {
    replacePrefix(match.path_value, redirect.path->value, r->mutable_regex_rewrite());
  }
  r->set_response_code(redirectCode(redirect.status_code));
}

// weft.dev/fault-abort: "10% 503" (or "10% grpc:14"); weft.dev/fault-delay:
// "5% 100ms". Malformed values were rejected by validation.
void addFault(route_v3::Route& route, const HttpRoute& http_route) {
  const auto& a = http_route.meta.annotations;
  auto abort = a.find("weft.dev/fault-abort");
  auto delay = a.find("weft.dev/fault-delay");
  if (abort == a.end() && delay == a.end()) return;
  envoy::extensions::filters::http::fault::v3::HTTPFault fault;
  auto percent = [](const std::string& spec, envoy::type::v3::FractionalPercent* out) {
    out->set_numerator(static_cast<uint32_t>(std::atof(spec.c_str()) * 10000));
    out->set_denominator(envoy::type::v3::FractionalPercent::MILLION);
    return spec.substr(spec.find(' ') + 1);
  };
  if (abort != a.end()) {
    std::string what = percent(abort->second, fault.mutable_abort()->mutable_percentage());
    if (what.rfind("grpc:", 0) == 0) {
      fault.mutable_abort()->set_grpc_status(static_cast<uint32_t>(std::atoi(what.c_str() + 5)));
    } else {
      fault.mutable_abort()->set_http_status(static_cast<uint32_t>(std::atoi(what.c_str())));
    }
  }
  if (delay != a.end()) {
    std::string what = percent(delay->second, fault.mutable_delay()->mutable_percentage());
    auto ms = parseGatewayDurationMs(what);
    *fault.mutable_delay()->mutable_fixed_delay() = TimeUtil::MillisecondsToDuration(ms ? *ms : 0);
  }
  (*route.mutable_typed_per_filter_config())["envoy.filters.http.fault"].PackFrom(fault);
}

route_v3::Route translateRule(const ConfigSet& config, const HttpRoute& http_route,
                              const HttpRouteRule& rule, const HttpRouteMatch& match,
                              const std::string* hostname, const ServicePort& port) {
  route_v3::Route route;
  route.set_name(http_route.meta.ns + "/" + http_route.meta.name);
  addMatch(route, match, hostname);
  if (rule.redirect) {
    setRedirect(route, *rule.redirect, match, port);
  } else if (rule.backend_refs.empty()) {
    // Gateway API: a rule with no backends answers 500 (HTTPRoute) or
    // UNAVAILABLE (GRPCRoute: the proxy answers a gRPC request's 503 with
    // grpc-status 14).
    auto* response = route.mutable_direct_response();
    response->set_status(http_route.kind == HttpRoute::Kind::kGrpc ? 503 : 500);
    response->mutable_body()->set_inline_string("no backends for this rule of " +
                                                std::string(http_route.kindName()) + " " +
                                                http_route.meta.ns + "/" + http_route.meta.name);
  } else {
    setRouteAction(route, config, http_route, rule, match);
  }
  if (rule.request_headers) {
    addModifier(*rule.request_headers, route.mutable_request_headers_to_add(),
                route.mutable_request_headers_to_remove());
  }
  if (rule.response_headers) {
    addModifier(*rule.response_headers, route.mutable_response_headers_to_add(),
                route.mutable_response_headers_to_remove());
  }
  addFault(route, http_route);
  return route;
}

}  // namespace

std::vector<route_v3::Route> httpRouteRoutes(const ConfigSet& config, const Service& svc,
                                             const ServicePort& port) {
  std::vector<RouteCandidate> candidates;
  std::vector<const HttpRoute*> attached;
  for (const auto* kind : {&config.http_routes, &config.grpc_routes}) {
    for (const auto& route : *kind) {
      if (route.attachesTo(svc, port)) attached.push_back(&route);
    }
  }
  for (const HttpRoute* route : attached) {
    const HttpRoute& http_route = *route;
    std::vector<const std::string*> hostnames;
    for (const auto& h : http_route.hostnames) hostnames.push_back(&h);
    if (hostnames.empty()) hostnames.push_back(nullptr);  // any Host
    for (size_t r = 0; r < http_route.rules.size(); ++r) {
      const HttpRouteRule& rule = http_route.rules[r];
      std::vector<HttpRouteMatch> matches = rule.matches;
      if (matches.empty()) matches.emplace_back();  // no matches: every request
      for (size_t m = 0; m < matches.size(); ++m) {
        const HttpRouteMatch& match = matches[m];
        for (const std::string* hostname : hostnames) {
          RouteCandidate c;
          c.route = translateRule(config, http_route, rule, match, hostname, port);
          if (hostname != nullptr) {
            bool wildcard = hostname->rfind("*.", 0) == 0;
            c.exact_host_length = wildcard ? 0 : hostname->size();
            c.host_length = hostname->size();
          }
          if (http_route.kind == HttpRoute::Kind::kGrpc) {
            // GRPCRoute: the characters of the service, then of the method.
            // The two kinds never share a hostname on one port (validation
            // accepts one), so their orders never meet.
            c.path_length = match.grpc_method ? match.grpc_method->service.size() : 0;
            c.method_length = match.grpc_method ? match.grpc_method->method.size() : 0;
          } else {
            c.path_rank = match.path_type == "Exact"               ? 0
                          : match.path_type == "RegularExpression" ? 1
                                                                   : 2;
            // Two Exact paths never match one request: only prefixes (and
            // regexes, weft's choice) rank by length.
            c.path_length = c.path_rank == 0 ? 0 : match.path_value.size();
          }
          c.has_method = !match.method.empty();
          c.header_count = match.headers.size();
          c.query_count = match.query_params.size();
          c.created = &http_route.meta.creation_timestamp;
          c.route_key = http_route.meta.ns + "/" + http_route.meta.name;
          c.rule_index = r;
          c.match_index = m;
          candidates.push_back(std::move(c));
        }
      }
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(), precedes);
  std::vector<route_v3::Route> routes;
  routes.reserve(candidates.size());
  for (auto& c : candidates) routes.push_back(std::move(c.route));
  return routes;
}

}  // namespace weft::control
