#include "controlplane/config/http_route_decoder.h"

#include "controlplane/config/route_fields.h"
#include "controlplane/config/yaml_fields.h"

namespace weft::control {

namespace {

const char* const kMethods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                "CONNECT", "OPTIONS", "TRACE", "PATCH"};

HttpRouteMatch match(const YAML::Node& node, const std::string& mpath) {
  supportedKeys(node, mpath, {"path", "headers", "queryParams", "method"});
  HttpRouteMatch m;
  if (const YAML::Node p = node["path"]) {
    supportedKeys(p, mpath + ".path", {"type", "value"});
    std::string type = str(p["type"], mpath + ".path.type");
    if (!type.empty()) m.path_type = type;
    if (m.path_type != "PathPrefix" && m.path_type != "Exact" &&
        m.path_type != "RegularExpression") {
      throw FieldError{mpath + ".path.type",
                       "'" + m.path_type + "' is not PathPrefix, Exact or RegularExpression"};
    }
    std::string value = str(p["value"], mpath + ".path.value");
    if (!value.empty()) m.path_value = value;
  }
  // Header names are case-insensitive, query parameter names are not.
  m.headers = nameValueMatches(node["headers"], mpath + ".headers", "header", false);
  m.query_params =
      nameValueMatches(node["queryParams"], mpath + ".queryParams", "query param", true);
  m.method = str(node["method"], mpath + ".method");
  if (!m.method.empty()) {
    bool known = false;
    for (const char* method : kMethods) known = known || m.method == method;
    if (!known) throw FieldError{mpath + ".method", "'" + m.method + "' is not an HTTP method"};
  }
  return m;
}

PathModifier pathModifier(const YAML::Node& node, const std::string& path) {
  supportedKeys(node, path, {"type", "replaceFullPath", "replacePrefixMatch"});
  PathModifier m;
  m.type = str(node["type"], path + ".type");
  if (m.type == "ReplaceFullPath") {
    if (node["replacePrefixMatch"]) {
      throw FieldError{path + ".replacePrefixMatch", "is for type ReplacePrefixMatch"};
    }
    m.value = str(node["replaceFullPath"], path + ".replaceFullPath");
  } else if (m.type == "ReplacePrefixMatch") {
    if (node["replaceFullPath"]) {
      throw FieldError{path + ".replaceFullPath", "is for type ReplaceFullPath"};
    }
    m.value = str(node["replacePrefixMatch"], path + ".replacePrefixMatch");
  } else {
    throw FieldError{path + ".type",
                     "'" + m.type + "' is not ReplaceFullPath or ReplacePrefixMatch"};
  }
  if (m.value.empty() || m.value.front() != '/') {
    throw FieldError{
        path + (m.type == "ReplaceFullPath" ? ".replaceFullPath" : ".replacePrefixMatch"),
        "must start with '/'"};
  }
  return m;
}

RequestRedirect redirect(const YAML::Node& node, const std::string& path) {
  if (!node) throw FieldError{path, "is required for this filter type"};
  supportedKeys(node, path, {"scheme", "hostname", "path", "port", "statusCode"});
  RequestRedirect r;
  r.scheme = str(node["scheme"], path + ".scheme");
  if (!r.scheme.empty() && r.scheme != "http" && r.scheme != "https") {
    throw FieldError{path + ".scheme", "'" + r.scheme + "' is not http or https"};
  }
  r.hostname = str(node["hostname"], path + ".hostname");
  if (!r.hostname.empty() && !isDnsName(r.hostname)) {
    throw FieldError{path + ".hostname", "'" + r.hostname + "' is not a DNS name"};
  }
  if (node["port"]) r.port = static_cast<uint16_t>(integer(node["port"], path + ".port", 1, 65535));
  if (node["path"]) r.path = pathModifier(node["path"], path + ".path");
  if (node["statusCode"]) {
    r.status_code = static_cast<int>(integer(node["statusCode"], path + ".statusCode", 301, 308));
    if (r.status_code != 301 && r.status_code != 302 && r.status_code != 303 &&
        r.status_code != 307 && r.status_code != 308) {
      throw FieldError{path + ".statusCode", "must be 301, 302, 303, 307 or 308"};
    }
  }
  return r;
}

UrlRewrite urlRewrite(const YAML::Node& node, const std::string& path) {
  if (!node) throw FieldError{path, "is required for this filter type"};
  supportedKeys(node, path, {"hostname", "path"});
  UrlRewrite u;
  u.hostname = str(node["hostname"], path + ".hostname");
  if (!u.hostname.empty() && !isDnsName(u.hostname)) {
    throw FieldError{path + ".hostname", "'" + u.hostname + "' is not a DNS name"};
  }
  if (node["path"]) u.path = pathModifier(node["path"], path + ".path");
  if (u.hostname.empty() && !u.path)
    throw FieldError{path, "rewrites nothing (no hostname, no path)"};
  return u;
}

void filter(const YAML::Node& node, size_t index, const std::string& fpath, HttpRouteRule& rule) {
  std::string type = str(node["type"], fpath + ".type");
  if (sharedRuleFilter(node, type, index, fpath, rule)) return;
  auto once = [&](auto& slot) {
    if (slot) throw FieldError{fpath + ".type", type + " appears twice in this rule"};
  };
  if (type == "URLRewrite") {
    supportedKeys(node, fpath, {"type", "urlRewrite"});
    once(rule.url_rewrite);
    rule.url_rewrite = urlRewrite(node["urlRewrite"], fpath + ".urlRewrite");
  } else if (type == "RequestRedirect") {
    supportedKeys(node, fpath, {"type", "requestRedirect"});
    once(rule.redirect);
    rule.redirect = redirect(node["requestRedirect"], fpath + ".requestRedirect");
  } else {
    throw FieldError{fpath + ".type",
                     "'" + type +
                         "' is not supported by weft (it supports RequestHeaderModifier, "
                         "ResponseHeaderModifier, URLRewrite, RequestRedirect, RequestMirror)"};
  }
}

HttpRouteRule rule(const YAML::Node& r, const std::string& rpath) {
  supportedKeys(r, rpath, {"matches", "filters", "backendRefs", "timeouts", "retry"});
  HttpRouteRule rule = ruleLists(r, rpath, match, filter);
  if (rule.redirect && rule.url_rewrite) {
    throw FieldError{rpath + ".filters", "RequestRedirect and URLRewrite cannot be in one rule"};
  }
  if (rule.redirect && !rule.backend_refs.empty()) {
    throw FieldError{rpath + ".backendRefs",
                     "a rule with a RequestRedirect answers the redirect itself: its backendRefs "
                     "would never be used"};
  }
  bool prefix_rewrite =
      (rule.url_rewrite && rule.url_rewrite->path &&
       rule.url_rewrite->path->type == "ReplacePrefixMatch") ||
      (rule.redirect && rule.redirect->path && rule.redirect->path->type == "ReplacePrefixMatch");
  if (prefix_rewrite && (rule.matches.size() != 1 || rule.matches[0].path_type != "PathPrefix")) {
    throw FieldError{rpath + ".matches",
                     "ReplacePrefixMatch needs exactly one match, of type PathPrefix"};
  }
  if (const YAML::Node retry = r["retry"]) {
    supportedKeys(retry, rpath + ".retry", {"attempts", "codes", "backoff"});
    HttpRouteRetry out;
    if (retry["attempts"]) {
      out.attempts =
          static_cast<uint32_t>(integer(retry["attempts"], rpath + ".retry.attempts", 0, 100));
    }
    YAML::Node codes = sequence(retry["codes"], rpath + ".retry.codes");
    for (size_t k = 0; k < codes.size(); ++k) {
      out.codes.push_back(static_cast<uint32_t>(
          integer(codes[k], rpath + ".retry.codes[" + std::to_string(k) + "]", 400, 599)));
    }
    if (retry["backoff"]) out.backoff_ms = duration(retry["backoff"], rpath + ".retry.backoff");
    rule.retry = std::move(out);
  }
  if (const YAML::Node t = r["timeouts"]) {
    supportedKeys(t, rpath + ".timeouts", {"request", "backendRequest"});
    if (t["request"]) rule.request_timeout_ms = duration(t["request"], rpath + ".timeouts.request");
    if (t["backendRequest"]) {
      rule.backend_request_timeout_ms =
          duration(t["backendRequest"], rpath + ".timeouts.backendRequest");
    }
  }
  return rule;
}

}  // namespace

HttpRoute parseHttpRoute(const YAML::Node& doc, ObjectMeta m) {
  return readRoute(doc, std::move(m), HttpRoute::Kind::kHttp, rule);
}

}  // namespace weft::control
