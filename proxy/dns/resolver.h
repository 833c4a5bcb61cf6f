#pragma once

// Asynchronous name resolution for the proxy's DNS clusters (STRICT_DNS,
// LOGICAL_DNS). An interface, so the cache that refreshes the clusters'
// names is tested against a fake; the real one is c-ares on the dispatcher
// (cares_resolver.h), which, unlike getaddrinfo, reports the answers' TTL.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "proxy/dns/dns_target.h"

namespace weft::dns {

struct Answer {
  std::vector<std::string> addresses;  // numeric, in the order the family prefers
  uint32_t ttl_s = 0;                  // the smallest TTL among them (0: none given)
};

class Resolver {
 public:
  // Called on the resolver's dispatcher, never from inside resolve(). `ok`
  // false: `error` says why (no such name, timeout, no answer of the family).
  using Callback = std::function<void(bool ok, Answer answer, const std::string& error)>;

  virtual ~Resolver() = default;
  // Callbacks of queries still pending when the resolver is destroyed are
  // never called.
  virtual void resolve(const std::string& hostname, LookupFamily family, Callback callback) = 0;
};

// Orders and filters `v4` and `v6` (numeric addresses) as `family` asks.
std::vector<std::string> applyFamily(LookupFamily family, std::vector<std::string> v4,
                                     std::vector<std::string> v6);

}  // namespace weft::dns
