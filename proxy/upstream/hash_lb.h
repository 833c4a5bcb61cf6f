#pragma once

// Consistent-hash host selection for one cluster (Envoy's RING_HASH and
// MAGLEV): a request's hash always lands on the same host while the host set
// stays the same, and a host that joins or leaves moves only about 1/N of
// the keys. Both tables are built from the hosts' addresses and weights
// alone, so every worker (and every sidecar with the same endpoints) builds
// the same one and sends a key to the same host.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/upstream/load_balancer.h"

namespace weft::upstream {

// xxHash64 with seed 0, Envoy's hash for keys and ring points.
uint64_t hashKey(std::string_view key);

struct HashLbHost {
  std::string key;  // "address:port": where the host sits in the table
  uint32_t weight = 1;
};

class HashLbTable {
 public:
  virtual ~HashLbTable() = default;
  // An index into the hosts the table was built from; -1 when none is
  // available. An unavailable (ejected) host's keys go to the next available
  // one the table names, the others' keys stay where they are.
  virtual int pick(uint64_t hash, const std::vector<LbHost*>& hosts) const = 0;
};

// Ketama-style ring: each host gets points in proportion to its weight,
// min_size..max_size points in all; a hash goes to the first point at or
// after it.
std::unique_ptr<HashLbTable> buildRingHash(const std::vector<HashLbHost>& hosts, uint64_t min_size,
                                           uint64_t max_size);

// Maglev lookup table of `table_size` entries (a prime), each host filling
// its preference permutation in proportion to its weight.
std::unique_ptr<HashLbTable> buildMaglev(const std::vector<HashLbHost>& hosts, uint64_t table_size);

}  // namespace weft::upstream
