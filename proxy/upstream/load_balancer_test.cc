#include "proxy/upstream/load_balancer.h"

#include <gtest/gtest.h>

namespace weft::upstream {
namespace {

std::vector<LbHost*> pointers(std::vector<LbHost>& hosts) {
  std::vector<LbHost*> out;
  for (auto& h : hosts) out.push_back(&h);
  return out;
}

TEST(LoadBalancerTest, SmoothWeightedRoundRobinInterleaves) {
  std::vector<LbHost> hosts(3);
  hosts[0].weight = 5;
  hosts[1].weight = 1;
  hosts[2].weight = 1;
  std::string order;
  for (int i = 0; i < 7; ++i)
    order += static_cast<char>('a' + LoadBalancer::pickRoundRobin(pointers(hosts)));
  // nginx's smooth WRR: the heavy host is spread out, not picked 5 in a row.
  EXPECT_EQ(order, "aabacaa");
}

TEST(LoadBalancerTest, RoundRobinSkipsUnavailable) {
  std::vector<LbHost> hosts(3);
  hosts[1].available = false;
  for (int i = 0; i < 10; ++i) EXPECT_NE(LoadBalancer::pickRoundRobin(pointers(hosts)), 1);
  for (auto& h : hosts) h.available = false;
  EXPECT_EQ(LoadBalancer::pickRoundRobin(pointers(hosts)), -1);
}

TEST(LoadBalancerTest, LeastRequestPrefersIdleHosts) {
  std::vector<LbHost> hosts(4);
  hosts[0].active_requests = 10;
  hosts[1].active_requests = 10;
  hosts[2].active_requests = 10;
  hosts[3].active_requests = 0;
  std::mt19937_64 rng(1);
  int picks_of_idle = 0;
  for (int i = 0; i < 4000; ++i)
    picks_of_idle += LoadBalancer::pickLeastRequest(pointers(hosts), 2, rng) == 3;
  // P2C picks host 3 whenever it is one of the two choices: 1 - (3/4)^2 = 7/16.
  EXPECT_NEAR(picks_of_idle / 4000.0, 7.0 / 16.0, 0.03);
}

TEST(LoadBalancerTest, LeastRequestWeighsByWeight) {
  std::vector<LbHost> hosts(2);
  hosts[0].weight = 4;
  hosts[0].active_requests = 3;  // 0.75 per unit of weight
  hosts[1].weight = 1;
  hosts[1].active_requests = 1;  // 1.0
  std::mt19937_64 rng(7);
  int picks_of_busier = 0;
  for (int i = 0; i < 2000; ++i)
    picks_of_busier += LoadBalancer::pickLeastRequest(pointers(hosts), 8, rng);
  // Host 1 wins only when all 8 choices land on it: (1/2)^8 = 0.4%.
  EXPECT_LT(picks_of_busier, 40);
}

}  // namespace
}  // namespace weft::upstream
