#include "proxy/config/route_table.h"

#include <algorithm>

namespace weft::config {

namespace {
// Host without port, lower-cased, for virtual-host matching.
std::string hostForMatch(std::string_view authority) {
  std::string host = matcher::lowered(authority);
  if (!host.empty() && host.front() == '[') return host;  // IPv6 literal: keep as is
  size_t colon = host.rfind(':');
  if (colon != std::string::npos) host.resize(colon);
  return host;
}
}  // namespace

void HeaderMutation::apply(http::HeaderMap& headers) const {
  for (const auto& name : remove) headers.remove(name);
  for (const auto& a : add) {
    switch (a.action) {
      case Action::kAppend:
        headers.add(a.name, a.value);
        break;
      case Action::kAddIfAbsent:
        if (!headers.has(a.name)) headers.add(a.name, a.value);
        break;
      case Action::kOverwrite:
        headers.set(a.name, a.value);
        break;
      case Action::kOverwriteIfExists:
        if (headers.has(a.name)) headers.set(a.name, a.value);
        break;
    }
  }
}

std::string RegexRewrite::apply(std::string_view input) const {
  std::string out(input);
  re2::RE2::GlobalReplace(&out, *pattern, substitution);
  return out;
}

bool RouteEntry::matches(const http::HeaderMap& request) const {
  // CONNECT carries an authority, not a path: only connect_matcher takes it.
  bool is_connect = request.method() == "CONNECT";
  if (is_connect != (path_kind == PathKind::kConnect)) return false;
  std::string_view path_value = matcher::pathWithoutQuery(request.path());
  switch (path_kind) {
    case PathKind::kConnect:
      break;
    case PathKind::kPrefix:
      if (!matcher::hasPrefix(path_value, path, !case_sensitive)) return false;
      break;
    case PathKind::kSeparatedPrefix:
      if (!matcher::hasPrefix(path_value, path, !case_sensitive) ||
          (path_value.size() > path.size() && path_value[path.size()] != '/')) {
        return false;
      }
      break;
    case PathKind::kExact:
      if (case_sensitive ? path_value != path : !http::equalsIgnoreCase(path_value, path)) {
        return false;
      }
      break;
    case PathKind::kRegex:
      if (!re2::RE2::FullMatch(re2::StringPiece(path_value.data(), path_value.size()),
                               *path_regex)) {
        return false;
      }
      break;
  }
  for (const auto& h : headers) {
    if (!h.matches(request)) return false;
  }
  for (const auto& q : query_parameters) {
    if (!q.matches(request.path())) return false;
  }
  return true;
}

const WeightedTarget* RouteEntry::pickWeighted(uint64_t random) const {
  if (weighted_clusters.empty()) return nullptr;
  uint64_t point = random % total_weight;
  for (const auto& target : weighted_clusters) {
    if (point < target.weight) return &target;
    point -= target.weight;
  }
  return &weighted_clusters.back();
}

namespace {
uint32_t defaultPort(std::string_view scheme) {
  return scheme == "https" ? 443 : scheme == "http" ? 80 : 0;
}
}  // namespace

std::string RouteEntry::redirectLocation(const http::HeaderMap& request) const {
  const Redirect& r = *redirect;
  // The request's scheme as the client used it: x-forwarded-proto (set or
  // vetted at the edge before any route is chosen), else :scheme.
  const std::string* forwarded = request.get("x-forwarded-proto");
  const std::string* pseudo = request.get(":scheme");
  std::string original_scheme = forwarded ? *forwarded : pseudo ? *pseudo : "http";
  std::string scheme = r.scheme.empty() ? original_scheme : r.scheme;

  std::string_view authority = request.authority();
  std::string_view host = authority;
  uint32_t port = 0;
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    host = authority.substr(0, colon);
    for (char c : authority.substr(colon + 1)) {
      if (c < '0' || c > '9' || port > 65535) {
        port = 0;
        break;
      }
      port = port * 10 + static_cast<uint32_t>(c - '0');
    }
  }
  if (!r.host.empty()) host = r.host;
  if (r.port != 0) {
    port = r.port;
  } else if (scheme != original_scheme) {
    port = 0;  // the new scheme's own port
  }
  if (port == defaultPort(scheme)) port = 0;

  std::string_view full_path = request.path();
  std::string_view path = matcher::pathWithoutQuery(full_path);
  std::string_view query = full_path.substr(path.size());
  std::string new_path;
  switch (r.path_kind) {
    case Redirect::PathKind::kKeep:
      new_path = std::string(path);
      break;
    case Redirect::PathKind::kPath:
      new_path = r.path;
      if (new_path.find('?') != std::string::npos) query = {};  // its own query wins
      break;
    case Redirect::PathKind::kPrefix:
      new_path = r.path + std::string(path.substr(std::min(path.size(), this->path.size())));
      break;
    case Redirect::PathKind::kRegex:
      new_path = r.regex.apply(path);
      break;
  }
  if (r.strip_query) query = {};

  std::string location = scheme + "://" + std::string(host);
  if (port != 0) location += ":" + std::to_string(port);
  location += new_path.empty() ? "/" : new_path;
  location += query;
  return location;
}

RouteTable::RouteTable(std::string name, std::vector<VirtualHost> virtual_hosts,
                       HeaderMutation request_mutation, HeaderMutation response_mutation)
    : name_(std::move(name)),
      virtual_hosts_(std::move(virtual_hosts)),
      request_mutation_(std::move(request_mutation)),
      response_mutation_(std::move(response_mutation)) {}

const VirtualHost* RouteTable::findVirtualHost(std::string_view authority) const {
  // Envoy's order: exact, then longest suffix wildcard, then longest prefix
  // wildcard, then "*". Domains may carry a port; try with and without it.
  std::string full = matcher::lowered(authority);
  std::string host = hostForMatch(authority);
  const VirtualHost* best_suffix = nullptr;
  size_t best_suffix_len = 0;
  const VirtualHost* best_prefix = nullptr;
  size_t best_prefix_len = 0;
  const VirtualHost* catch_all = nullptr;
  for (const auto& vh : virtual_hosts_) {
    for (const auto& domain : vh.domains) {
      if (domain == "*") {
        if (catch_all == nullptr) catch_all = &vh;
      } else if (domain.front() == '*') {
        std::string_view suffix = std::string_view(domain).substr(1);
        if ((matcher::hasSuffix(host, suffix, true) && host.size() > suffix.size()) ||
            (matcher::hasSuffix(full, suffix, true) && full.size() > suffix.size())) {
          if (suffix.size() > best_suffix_len) {
            best_suffix = &vh;
            best_suffix_len = suffix.size();
          }
        }
      } else if (domain.back() == '*') {
        std::string_view prefix = std::string_view(domain).substr(0, domain.size() - 1);
        if (matcher::hasPrefix(host, prefix, true) || matcher::hasPrefix(full, prefix, true)) {
          if (prefix.size() > best_prefix_len) {
            best_prefix = &vh;
            best_prefix_len = prefix.size();
          }
        }
      } else if (http::equalsIgnoreCase(domain, full) || http::equalsIgnoreCase(domain, host)) {
        return &vh;
      }
    }
  }
  if (best_suffix != nullptr) return best_suffix;
  if (best_prefix != nullptr) return best_prefix;
  return catch_all;
}

const RouteEntry* RouteTable::route(const http::HeaderMap& headers) const {
  const VirtualHost* vh = findVirtualHost(headers.authority());
  if (vh == nullptr) return nullptr;
  for (const auto& entry : vh->routes) {
    if (entry.matches(headers)) return &entry;
  }
  return nullptr;
}

}  // namespace weft::config
