#include "proxy/router/request_hash.h"

#include <cstdio>

#include "proxy/upstream/hash_lb.h"

namespace weft::router {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string madeUpCookie(const config::HashPolicy& policy, std::string* value,
                         std::mt19937_64& rng) {
  // Random rather than Envoy's hash of the connection's addresses: clients
  // behind one NAT or one sidecar connection still spread over the hosts.
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(rng()));
  *value = hex;
  std::string cookie = policy.name + "=\"" + *value + "\"";
  if (*policy.cookie_ttl_ms > 0)
    cookie += "; Max-Age=" + std::to_string(*policy.cookie_ttl_ms / 1000);
  if (!policy.cookie_path.empty()) cookie += "; Path=" + policy.cookie_path;
  cookie += "; HttpOnly";
  return cookie;
}

}  // namespace

std::optional<std::string_view> findCookie(const http::HeaderMap& request, std::string_view name) {
  // HTTP/2 may split the cookie header in several (RFC 9113 8.2.3).
  for (const auto& [header, value] : request.entries()) {
    if (header != "cookie") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t end = rest.find(';');
      std::string_view pair = trim(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) continue;
      std::string_view v = trim(pair.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return std::nullopt;
}

RequestHash hashRequest(const std::vector<config::HashPolicy>& policies,
                        const http::HeaderMap& request, const network::Address* downstream,
                        std::mt19937_64& rng) {
  RequestHash out;
  std::string made_up;
  for (const auto& policy : policies) {
    std::optional<uint64_t> h;
    switch (policy.kind) {
      case config::HashPolicy::Kind::kHeader:
        if (const std::string* v = request.get(policy.name)) h = upstream::hashKey(*v);
        break;
      case config::HashPolicy::Kind::kCookie:
        if (auto v = findCookie(request, policy.name)) {
          h = upstream::hashKey(*v);
        } else if (policy.cookie_ttl_ms && out.set_cookie.empty()) {
          out.set_cookie = madeUpCookie(policy, &made_up, rng);
          h = upstream::hashKey(made_up);
        }
        break;
      case config::HashPolicy::Kind::kSourceIp:
        if (downstream != nullptr) h = upstream::hashKey(downstream->ip());
        break;
    }
    if (!h) continue;
    // Envoy's combination: rotate what is there, xor the new one in.
    out.hash = out.hash ? ((*out.hash << 1) | (*out.hash >> 63)) ^ *h : *h;
    if (policy.terminal) break;
  }
  return out;
}

}  // namespace weft::router
