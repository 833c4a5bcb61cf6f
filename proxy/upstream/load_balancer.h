#pragma once

// Host selection for one cluster on one worker. Both algorithms honour
// endpoint weights: smooth weighted round robin (as nginx) and least-request
// by power of two choices (as Envoy), comparing active requests / weight.

#include <cstdint>
#include <random>
#include <vector>

namespace weft::upstream {

struct LbHost {
  uint32_t weight = 1;
  int64_t current_weight = 0;  // smooth weighted round robin state
  uint32_t active_requests = 0;
  bool available = true;  // false while ejected / circuit open
};

class LoadBalancer {
 public:
  // Returns an index into `hosts`, or -1 when none is available.
  static int pickRoundRobin(const std::vector<LbHost*>& hosts);
  static int pickLeastRequest(const std::vector<LbHost*>& hosts, uint32_t choices,
                              std::mt19937_64& rng);
};

}  // namespace weft::upstream
