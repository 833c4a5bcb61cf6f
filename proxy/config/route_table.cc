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
  for (const auto& [name, value] : set) headers.set(name, value);
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
  return true;
}

const std::string& RouteEntry::pickCluster(uint64_t random) const {
  if (weighted_clusters.empty()) return cluster;
  uint64_t point = random % total_weight;
  for (const auto& target : weighted_clusters) {
    if (point < target.weight) return target.cluster;
    point -= target.weight;
  }
  return weighted_clusters.back().cluster;
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
