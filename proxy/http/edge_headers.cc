#include "proxy/http/edge_headers.h"

#include <vector>

namespace weft::http {

bool isMeshInternalHeader(std::string_view name) {
  return name.rfind("x-envoy-", 0) == 0 || name.rfind("x-weft-", 0) == 0;
}

namespace {
// The comma-separated addresses of x-forwarded-for, trimmed.
std::vector<std::string> splitForwardedFor(const std::string& value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    std::string part = value.substr(start, comma - start);
    size_t b = part.find_first_not_of(" \t"), e = part.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(part.substr(b, e - b + 1));
    start = comma + 1;
  }
  return out;
}
}  // namespace

void sanitizeAtEdge(HeaderMap& headers, const config::HttpListenerSettings& settings,
                    const network::Address& remote, bool tls) {
  if (!settings.use_remote_address) return;
  std::vector<std::string> internal;
  for (const auto& [name, value] : headers.entries()) {
    if (isMeshInternalHeader(name)) internal.push_back(name);
  }
  for (const auto& name : internal) headers.remove(name);
  headers.set("x-forwarded-proto", tls ? "https" : "http");
  // The app's own outbound requests (skip_xff_append) stop here: its
  // loopback address says nothing to the callee, and this runs per request.
  if (settings.skip_xff_append) return;
  std::string peer = remote.ip();
  const std::string* existing = headers.get("x-forwarded-for");
  // Envoy's rule: with N trusted hops in front of this proxy, the client is
  // the Nth address from the right of x-forwarded-for as it arrived; with
  // none (or too short a header) it is the peer itself.
  std::string client = peer;
  uint32_t n = settings.xff_num_trusted_hops;
  if (n > 0 && existing != nullptr) {
    std::vector<std::string> hops = splitForwardedFor(*existing);
    if (hops.size() >= n) client = hops[hops.size() - n];
  }
  headers.set("x-forwarded-for", existing ? *existing + "," + peer : peer);
  headers.set("x-envoy-external-address", client);
}

}  // namespace weft::http
