#include "proxy/upstream/hash_lb.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>

namespace weft::upstream {
namespace {

struct Hosts {
  explicit Hosts(std::vector<uint32_t> weights) {
    for (size_t i = 0; i < weights.size(); ++i) {
      keys.push_back({"10.0.0." + std::to_string(i + 1) + ":8080", weights[i]});
      lb.push_back(std::make_unique<LbHost>());
      lb.back()->weight = weights[i];
      ptrs.push_back(lb.back().get());
    }
  }
  std::vector<HashLbHost> keys;
  std::vector<std::unique_ptr<LbHost>> lb;
  std::vector<LbHost*> ptrs;
};

using Builder = std::unique_ptr<HashLbTable> (*)(const std::vector<HashLbHost>&);
std::unique_ptr<HashLbTable> ring(const std::vector<HashLbHost>& h) {
  return buildRingHash(h, 1024, 8 * 1024 * 1024);
}
std::unique_ptr<HashLbTable> maglev(const std::vector<HashLbHost>& h) {
  return buildMaglev(h, 65537);
}

class HashLbTest : public testing::TestWithParam<Builder> {};

// How many of `keys` user ids each host gets.
std::map<int, int> spread(const HashLbTable& table, const std::vector<LbHost*>& hosts, int keys) {
  std::map<int, int> count;
  for (int k = 0; k < keys; ++k) ++count[table.pick(hashKey("user-" + std::to_string(k)), hosts)];
  return count;
}

TEST_P(HashLbTest, SameKeySameHostAcrossBuilds) {
  Hosts hosts({1, 1, 1});
  auto a = GetParam()(hosts.keys);
  auto b = GetParam()(hosts.keys);  // another worker, another sidecar
  for (int k = 0; k < 1000; ++k) {
    uint64_t h = hashKey("user-" + std::to_string(k));
    int first = a->pick(h, hosts.ptrs);
    ASSERT_GE(first, 0);
    EXPECT_EQ(first, a->pick(h, hosts.ptrs));
    EXPECT_EQ(first, b->pick(h, hosts.ptrs));
  }
}

TEST_P(HashLbTest, KeysSpreadWithinTenPercentOverThreeHosts) {
  Hosts hosts({1, 1, 1});
  auto table = GetParam()(hosts.keys);
  auto count = spread(*table, hosts.ptrs, 30000);
  ASSERT_EQ(count.size(), 3u);
  for (const auto& [host, n] : count) {
    EXPECT_NEAR(n, 10000, 1000) << "host " << host;
  }
}

TEST_P(HashLbTest, WeightsShareTheKeys) {
  Hosts hosts({1, 3});
  auto table = GetParam()(hosts.keys);
  auto count = spread(*table, hosts.ptrs, 40000);
  EXPECT_NEAR(count[0], 10000, 1500);
  EXPECT_NEAR(count[1], 30000, 1500);
}

TEST_P(HashLbTest, AnEjectedHostsKeysMoveAndTheOthersStay) {
  Hosts hosts({1, 1, 1});
  auto table = GetParam()(hosts.keys);
  std::vector<int> before;
  for (int k = 0; k < 3000; ++k)
    before.push_back(table->pick(hashKey(std::to_string(k)), hosts.ptrs));
  hosts.lb[1]->available = false;
  for (int k = 0; k < 3000; ++k) {
    int now = table->pick(hashKey(std::to_string(k)), hosts.ptrs);
    ASSERT_NE(now, 1);
    if (before[k] != 1) {
      EXPECT_EQ(now, before[k]) << "key " << k << " moved needlessly";
    }
  }
  for (auto& h : hosts.lb) h->available = false;
  EXPECT_EQ(table->pick(hashKey("x"), hosts.ptrs), -1);
}

TEST_P(HashLbTest, ARemovedHostMovesAboutAThirdOfTheKeys) {
  Hosts three({1, 1, 1});
  Hosts two({1, 1});  // the same first two addresses, the third gone
  auto before = GetParam()(three.keys);
  auto after = GetParam()(two.keys);
  int moved = 0, kept = 0;
  for (int k = 0; k < 3000; ++k) {
    uint64_t h = hashKey(std::to_string(k));
    int was = before->pick(h, three.ptrs);
    int is = after->pick(h, two.ptrs);
    if (was == 2) continue;
    ++kept;
    moved += was != is;
  }
  // The removed host's keys must move; of the others only a few may. A ring
  // of Envoy's total size gives the two survivors 512 points each instead of
  // 342, and the new points take arcs from each other (about 1 in 9 keys);
  // Maglev's refill moves a few percent.
  std::printf("needless moves after a removal: %d of %d keys\n", moved, kept);
  EXPECT_LT(moved, kept * 15 / 100);
}

INSTANTIATE_TEST_SUITE_P(RingHashAndMaglev, HashLbTest, testing::Values(&ring, &maglev));

TEST(RingHashTest, RingSizeFollowsTheMinimum) {
  Hosts hosts({1, 1, 1});
  // A tiny ring still answers every key and keeps them sticky.
  auto table = buildRingHash(hosts.keys, 3, 3);
  for (int k = 0; k < 100; ++k) EXPECT_GE(table->pick(hashKey(std::to_string(k)), hosts.ptrs), 0);
}

}  // namespace
}  // namespace weft::upstream
