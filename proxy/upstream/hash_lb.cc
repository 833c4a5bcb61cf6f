#include "proxy/upstream/hash_lb.h"

#include <algorithm>
#include <cmath>

#define XXH_INLINE_ALL  // header only: no libxxhash pages in the proxy
#include <xxhash.h>

namespace weft::upstream {

uint64_t hashKey(std::string_view key) { return XXH64(key.data(), key.size(), 0); }

namespace {

class RingHashTable : public HashLbTable {
 public:
  struct Point {
    uint64_t hash;
    uint32_t host;
  };
  explicit RingHashTable(std::vector<Point> ring) : ring_(std::move(ring)) {}

  int pick(uint64_t hash, const std::vector<LbHost*>& hosts) const override {
    if (ring_.empty()) return -1;
    auto it = std::lower_bound(ring_.begin(), ring_.end(), hash,
                               [](const Point& p, uint64_t h) { return p.hash < h; });
    size_t start = it == ring_.end() ? 0 : static_cast<size_t>(it - ring_.begin());
    // Walk on past unavailable hosts; bounded by the ring.
    for (size_t step = 0; step < ring_.size(); ++step) {
      uint32_t host = ring_[(start + step) % ring_.size()].host;
      if (host < hosts.size() && hosts[host]->available) return static_cast<int>(host);
    }
    return -1;
  }

 private:
  std::vector<Point> ring_;
};

class MaglevTable : public HashLbTable {
 public:
  explicit MaglevTable(std::vector<uint32_t> table) : table_(std::move(table)) {}

  int pick(uint64_t hash, const std::vector<LbHost*>& hosts) const override {
    if (table_.empty()) return -1;
    // An unavailable host: rehash (deterministically per key) a bounded
    // number of times, then take any available host.
    uint64_t h = hash;
    for (int attempt = 0; attempt < 32; ++attempt) {
      uint32_t host = table_[h % table_.size()];
      if (host < hosts.size() && hosts[host]->available) return static_cast<int>(host);
      h = XXH64(&h, sizeof(h), static_cast<uint64_t>(attempt) + 1);
    }
    for (size_t i = 0; i < hosts.size(); ++i) {
      if (hosts[i]->available) return static_cast<int>(i);
    }
    return -1;
  }

 private:
  std::vector<uint32_t> table_;
};

}  // namespace

std::unique_ptr<HashLbTable> buildRingHash(const std::vector<HashLbHost>& hosts, uint64_t min_size,
                                           uint64_t max_size) {
  std::vector<RingHashTable::Point> ring;
  uint64_t total = 0;
  uint32_t min_weight = UINT32_MAX;
  for (const auto& h : hosts) {
    if (h.weight == 0) continue;
    total += h.weight;
    min_weight = std::min(min_weight, h.weight);
  }
  if (total == 0) return std::make_unique<RingHashTable>(std::move(ring));
  // As Envoy: scale so the lightest host gets at least min_size * its share
  // of points, capped at max_size points in all.
  const double min_share = static_cast<double>(min_weight) / static_cast<double>(total);
  const double scale = std::min(std::ceil(min_share * static_cast<double>(min_size)) / min_share,
                                static_cast<double>(max_size));
  for (uint32_t i = 0; i < hosts.size(); ++i) {
    if (hosts[i].weight == 0) continue;
    const double share = static_cast<double>(hosts[i].weight) / static_cast<double>(total);
    const uint64_t points = static_cast<uint64_t>(std::ceil(share * scale));
    std::string key = hosts[i].key + "_";
    const size_t prefix = key.size();
    for (uint64_t p = 0; p < points; ++p) {
      key.resize(prefix);
      key += std::to_string(p);
      ring.push_back({hashKey(key), i});
    }
  }
  std::sort(ring.begin(), ring.end(), [](const auto& a, const auto& b) {
    return a.hash < b.hash || (a.hash == b.hash && a.host < b.host);
  });
  return std::make_unique<RingHashTable>(std::move(ring));
}

std::unique_ptr<HashLbTable> buildMaglev(const std::vector<HashLbHost>& hosts,
                                         uint64_t table_size) {
  std::vector<uint32_t> table;
  struct Candidate {
    uint32_t host;
    uint64_t offset, skip, next = 0;
    double target = 0, filled = 0;
  };
  std::vector<Candidate> candidates;
  uint32_t max_weight = 0;
  for (uint32_t i = 0; i < hosts.size(); ++i) {
    if (hosts[i].weight == 0) continue;
    max_weight = std::max(max_weight, hosts[i].weight);
    const std::string& key = hosts[i].key;
    candidates.push_back({i, XXH64(key.data(), key.size(), 0) % table_size,
                          XXH64(key.data(), key.size(), 1) % (table_size - 1) + 1});
  }
  if (candidates.empty()) return std::make_unique<MaglevTable>(std::move(table));
  constexpr uint32_t kEmpty = UINT32_MAX;
  table.assign(table_size, kEmpty);
  // Weighted fill: in each round a host takes a slot when its share of the
  // rounds so far (weight / max weight) says it is due one.
  uint64_t filled = 0;
  for (uint64_t round = 1; filled < table_size; ++round) {
    for (auto& c : candidates) {
      c.target = static_cast<double>(round) * hosts[c.host].weight / max_weight;
      if (c.filled >= c.target) continue;
      uint64_t slot;
      do {
        slot = (c.offset + c.skip * c.next) % table_size;
        ++c.next;
      } while (table[slot] != kEmpty);
      table[slot] = c.host;
      c.filled += 1;
      if (++filled == table_size) break;
    }
  }
  return std::make_unique<MaglevTable>(std::move(table));
}

}  // namespace weft::upstream
