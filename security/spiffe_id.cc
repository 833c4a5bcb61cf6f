#include "security/spiffe_id.h"

#include <vector>

namespace weft::security {

namespace {

constexpr std::string_view kScheme = "spiffe://";

bool fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

bool isTrustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool isPathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

}  // namespace

std::string SpiffeId::uri() const {
  return std::string(kScheme) + trust_domain + "/ns/" + ns + "/sa/" + service_account;
}

bool isValidTrustDomain(std::string_view td, std::string* error) {
  if (td.empty()) return fail(error, "empty trust domain");
  if (td.size() > 255) return fail(error, "trust domain longer than 255 characters");
  for (char c : td) {
    if (!isTrustDomainChar(c)) {
      return fail(error,
                  "trust domain may hold only a-z 0-9 . - _ (found '" + std::string(1, c) + "')");
    }
  }
  return true;
}

bool isValidSpiffeUri(std::string_view uri, std::string* error) {
  if (uri.size() > 2048) return fail(error, "longer than 2048 bytes");
  if (uri.substr(0, kScheme.size()) != kScheme) return fail(error, "does not start with spiffe://");
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view td = rest.substr(0, slash);
  if (!isValidTrustDomain(td, error)) return false;
  if (slash == std::string_view::npos) return true;
  std::string_view path = rest.substr(slash);  // starts with '/'
  if (path == "/") return fail(error, "path may not end with /");
  while (!path.empty()) {
    path.remove_prefix(1);
    size_t next = path.find('/');
    std::string_view segment = path.substr(0, next);
    if (segment.empty()) return fail(error, "empty path segment");
    if (segment == "." || segment == "..") return fail(error, "path segment . or ..");
    for (char c : segment) {
      if (!isPathChar(c)) {
        return fail(error, "path may hold only A-Z a-z 0-9 . - _ and / (found '" +
                               std::string(1, c) + "')");
      }
    }
    path = next == std::string_view::npos ? std::string_view() : path.substr(next);
  }
  return true;
}

std::optional<SpiffeId> parseWorkloadId(std::string_view uri, std::string* error) {
  if (!isValidSpiffeUri(uri, error)) return std::nullopt;
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    fail(error, "no workload path (want /ns/<namespace>/sa/<service account>)");
    return std::nullopt;
  }
  std::vector<std::string_view> segments;
  std::string_view path = rest.substr(slash + 1);
  while (true) {
    size_t next = path.find('/');
    segments.push_back(path.substr(0, next));
    if (next == std::string_view::npos) break;
    path = path.substr(next + 1);
  }
  if (segments.size() != 4 || segments[0] != "ns" || segments[2] != "sa") {
    fail(error, "path is not /ns/<namespace>/sa/<service account>");
    return std::nullopt;
  }
  return SpiffeId{std::string(rest.substr(0, slash)), std::string(segments[1]),
                  std::string(segments[3])};
}

}  // namespace weft::security
