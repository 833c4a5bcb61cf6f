#include "proxy/http/request_id.h"

#include <cstdio>

namespace weft::http {

void ensureRequestId(HeaderMap& request, std::mt19937_64& rng) {
  if (const std::string* id = request.get(kRequestIdHeader); id != nullptr && !id->empty()) return;
  uint64_t high = rng(), low = rng();
  high = (high & ~0xf000ull) | 0x4000ull;      // version 4
  low = (low & ~(3ull << 62)) | (2ull << 62);  // RFC 4122 variant
  char uuid[40];
  std::snprintf(uuid, sizeof(uuid), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(high >> 32), static_cast<unsigned>((high >> 16) & 0xffff),
                static_cast<unsigned>(high & 0xffff), static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffull));
  request.set(kRequestIdHeader, uuid);
}

}  // namespace weft::http
