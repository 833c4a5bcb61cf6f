#include "proxy/upstream/load_balancer.h"

namespace weft::upstream {

int LoadBalancer::pickRoundRobin(const std::vector<LbHost*>& hosts) {
  int best = -1;
  int64_t total = 0;
  for (size_t i = 0; i < hosts.size(); ++i) {
    LbHost& h = *hosts[i];
    if (!h.available) continue;
    h.current_weight += h.weight;
    total += h.weight;
    if (best < 0 || h.current_weight > hosts[best]->current_weight) best = static_cast<int>(i);
  }
  if (best >= 0) hosts[best]->current_weight -= total;
  return best;
}

int LoadBalancer::pickLeastRequest(const std::vector<LbHost*>& hosts, uint32_t choices,
                                   std::mt19937_64& rng) {
  std::vector<int> candidates;
  candidates.reserve(hosts.size());
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (hosts[i]->available) candidates.push_back(static_cast<int>(i));
  }
  if (candidates.empty()) return -1;
  int best = -1;
  for (uint32_t c = 0; c < choices; ++c) {
    int idx = candidates[rng() % candidates.size()];
    if (best < 0) {
      best = idx;
      continue;
    }
    // Compare active/weight without division: a.active * b.weight < b.active * a.weight.
    const LbHost& a = *hosts[idx];
    const LbHost& b = *hosts[best];
    if (static_cast<uint64_t>(a.active_requests) * b.weight <
        static_cast<uint64_t>(b.active_requests) * a.weight) {
      best = idx;
    }
  }
  return best;
}

}  // namespace weft::upstream
