#include "proxy/router/retry_state.h"

#include <gtest/gtest.h>

namespace weft::router {
namespace {

config::RetryPolicy policy(uint32_t retry_on, uint32_t num_retries) {
  config::RetryPolicy p;
  p.retry_on = retry_on;
  p.num_retries = num_retries;
  return p;
}

http::HeaderMap response(const char* status, const char* grpc_status = nullptr) {
  http::HeaderMap h;
  h.add(":status", status);
  if (grpc_status != nullptr) h.add("grpc-status", grpc_status);
  return h;
}

config::ClusterConfig limits(uint32_t max_retries, bool budget) {
  config::ClusterConfig c;
  c.max_retries = max_retries;
  c.retry_budget_enabled = budget;
  c.retry_budget_percent = 50;
  c.min_retry_concurrency = 1;
  return c;
}

using Decision = RetryState::Decision;

TEST(RetryStateTest, RetriesWhatThePolicyNamesAndNothingElse) {
  auto resources = std::make_shared<upstream::ClusterResources>();
  config::RetryPolicy p =
      policy(config::RetryPolicy::kRetriableStatusCodes | config::RetryPolicy::kGrpcUnavailable, 5);
  p.retriable_status_codes = {503};
  RetryState state(p, resources, nullptr);
  auto r503 = response("503");
  auto r500 = response("500");
  auto grpc14 = response("200", "14");
  auto grpc2 = response("200", "2");
  EXPECT_TRUE(state.retriable(RetryFailure::kStatus, &r503));
  EXPECT_FALSE(state.retriable(RetryFailure::kStatus, &r500));
  EXPECT_TRUE(state.retriable(RetryFailure::kStatus, &grpc14));
  EXPECT_FALSE(state.retriable(RetryFailure::kStatus, &grpc2));
  EXPECT_FALSE(state.retriable(RetryFailure::kConnectFailure, nullptr));
  EXPECT_FALSE(state.retriable(RetryFailure::kReset, nullptr));
}

TEST(RetryStateTest, StopsAtTheRoutesLimitAndSaysSo) {
  auto resources = std::make_shared<upstream::ClusterResources>();
  config::RetryPolicy p = policy(config::RetryPolicy::k5xx, 2);
  RetryState state(p, resources, nullptr);
  std::mt19937_64 rng(1);
  auto r503 = response("503");
  auto cluster = limits(10, false);
  EXPECT_EQ(state.onFailure(RetryFailure::kStatus, &r503, cluster, rng), Decision::kRetry);
  EXPECT_EQ(state.onFailure(RetryFailure::kReset, nullptr, cluster, rng), Decision::kRetry);
  EXPECT_EQ(state.onFailure(RetryFailure::kStatus, &r503, cluster, rng), Decision::kLimitExceeded);
  EXPECT_EQ(state.retriesGranted(), 2u);
  auto r404 = response("404");
  EXPECT_EQ(state.onFailure(RetryFailure::kStatus, &r404, cluster, rng), Decision::kNoRetry);
}

TEST(RetryStateTest, HoldsOneBudgetSlotPerRequestAndGivesItBack) {
  auto resources = std::make_shared<upstream::ClusterResources>();
  config::RetryPolicy p = policy(config::RetryPolicy::k5xx, 3);
  std::mt19937_64 rng(1);
  auto cluster = limits(1, false);  // one request in retry at a time
  {
    RetryState first(p, resources, nullptr);
    EXPECT_EQ(first.onFailure(RetryFailure::kReset, nullptr, cluster, rng), Decision::kRetry);
    EXPECT_EQ(first.onFailure(RetryFailure::kReset, nullptr, cluster, rng), Decision::kRetry)
        << "a request already retrying keeps its slot";
    EXPECT_EQ(resources->active_retries.load(), 1u);
    RetryState second(p, resources, nullptr);
    EXPECT_EQ(second.onFailure(RetryFailure::kReset, nullptr, cluster, rng),
              Decision::kBudgetExceeded);
  }
  EXPECT_EQ(resources->active_retries.load(), 0u) << "the slot is given back with the state";
}

TEST(RetryStateTest, ALimitRaisedByAPushAppliesToTheLiveCount) {
  auto resources = std::make_shared<upstream::ClusterResources>();
  config::RetryPolicy p = policy(config::RetryPolicy::k5xx, 3);
  std::mt19937_64 rng(1);
  RetryState first(p, resources, nullptr);
  RetryState second(p, resources, nullptr);
  EXPECT_EQ(first.onFailure(RetryFailure::kReset, nullptr, limits(1, false), rng),
            Decision::kRetry);
  EXPECT_EQ(second.onFailure(RetryFailure::kReset, nullptr, limits(1, false), rng),
            Decision::kBudgetExceeded);
  // The push raised max_retries: the retry in flight still counts against it.
  EXPECT_EQ(second.onFailure(RetryFailure::kReset, nullptr, limits(2, false), rng),
            Decision::kRetry);
  EXPECT_EQ(resources->active_retries.load(), 2u);
}

TEST(RetryStateTest, TheBudgetIsAShareOfTheRequestsInFlight) {
  auto resources = std::make_shared<upstream::ClusterResources>();
  resources->active_requests = 4;  // 50 % of 4: two requests may be retrying
  config::RetryPolicy p = policy(config::RetryPolicy::k5xx, 3);
  std::mt19937_64 rng(1);
  auto cluster = limits(100, true);
  RetryState a(p, resources, nullptr), b(p, resources, nullptr), c(p, resources, nullptr);
  EXPECT_EQ(a.onFailure(RetryFailure::kReset, nullptr, cluster, rng), Decision::kRetry);
  EXPECT_EQ(b.onFailure(RetryFailure::kReset, nullptr, cluster, rng), Decision::kRetry);
  EXPECT_EQ(c.onFailure(RetryFailure::kReset, nullptr, cluster, rng), Decision::kBudgetExceeded);
}

TEST(RetryStateTest, BackoffIsJitteredUnderAnExponentialCeiling) {
  auto resources = std::make_shared<upstream::ClusterResources>();
  config::RetryPolicy p = policy(config::RetryPolicy::k5xx, 4);
  p.backoff_base_ms = 10;
  p.backoff_max_ms = 30;
  std::mt19937_64 rng(7);
  auto cluster = limits(100, false);
  uint64_t ceilings[] = {10, 20, 30, 30};
  for (uint64_t ceiling : ceilings) {
    RetryState state(p, resources, nullptr);
    for (uint64_t c : ceilings) {
      ASSERT_EQ(state.onFailure(RetryFailure::kReset, nullptr, cluster, rng), Decision::kRetry);
      EXPECT_LE(state.backoffMs(), c);
      if (c == ceiling) break;
    }
  }
}

}  // namespace
}  // namespace weft::router
