#pragma once

// A name as a DNS cluster resolves it, what the configuration model
// (config::ClusterConfig) records, and the lookup translation does
// (implemented by the cache, dns_cache.h).

#include <cstdint>
#include <string>
#include <vector>

namespace weft::dns {

// Envoy's Cluster.DnsLookupFamily.
enum class LookupFamily {
  kAuto,    // IPv6 if the name has any, else IPv4 (Envoy's default)
  kV4Only,  // Istio's choice for IPv4 clusters
  kV6Only,
  kV4Preferred,  // IPv4 if the name has any, else IPv6
  kAll,          // both, IPv4 first
};

struct DnsTarget {
  std::string hostname;
  LookupFamily family = LookupFamily::kAuto;
  uint64_t refresh_ms = 5000;  // Envoy's dns_refresh_rate default
  bool respect_ttl = false;    // refresh at the answer's TTL instead
};

// Translation's view of the cache.
class DnsLookup {
 public:
  virtual ~DnsLookup() = default;
  // The last good answer for `target`, or nullptr: not resolved yet (it is
  // being resolved now).
  virtual const std::vector<std::string>* lookup(const DnsTarget& target) = 0;
};

}  // namespace weft::dns
