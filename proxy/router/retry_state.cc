#include "proxy/router/retry_state.h"

#include <algorithm>
#include <cstdlib>

namespace weft::router {

namespace {
uint32_t grpcRetryBit(const http::HeaderMap& headers) {
  const std::string* status = headers.get("grpc-status");
  if (status == nullptr) return 0;
  switch (std::atoi(status->c_str())) {
    case 1:
      return config::RetryPolicy::kGrpcCancelled;
    case 4:
      return config::RetryPolicy::kGrpcDeadlineExceeded;
    case 8:
      return config::RetryPolicy::kGrpcResourceExhausted;
    case 14:
      return config::RetryPolicy::kGrpcUnavailable;
    default:
      return 0;
  }
}
}  // namespace

RetryState::RetryState(const config::RetryPolicy& policy,
                       std::shared_ptr<upstream::ClusterResources> resources,
                       const stats::ClusterStats* stats)
    : policy_(policy), resources_(std::move(resources)), stats_(stats) {}

RetryState::~RetryState() {
  if (holds_slot_) resources_->active_retries.fetch_sub(1, std::memory_order_relaxed);
}

bool RetryState::retriable(RetryFailure failure, const http::HeaderMap* response) const {
  using P = config::RetryPolicy;
  uint32_t on = policy_.retry_on;
  switch (failure) {
    case RetryFailure::kConnectFailure:
      return (on & (P::kConnectFailure | P::k5xx | P::kGatewayError)) != 0;
    case RetryFailure::kReset:
      return (on & (P::kReset | P::k5xx)) != 0;
    case RetryFailure::kPerTryTimeout:
      return (on & (P::k5xx | P::kGatewayError | P::kReset)) != 0;
    case RetryFailure::kStatus: {
      if (response == nullptr) return false;
      int code = response->statusCode();
      if ((on & P::k5xx) && code >= 500) return true;
      if ((on & P::kGatewayError) && code >= 502 && code <= 504) return true;
      if (on & P::kRetriableStatusCodes) {
        for (uint32_t c : policy_.retriable_status_codes) {
          if (static_cast<int>(c) == code) return true;
        }
      }
      return (on & grpcRetryBit(*response)) != 0;
    }
  }
  return false;
}

bool RetryState::budgetAllows(const config::ClusterConfig& limits) const {
  // Retries in flight stay under a share of the requests in flight (never
  // below min_retry_concurrency); without a budget, under max_retries.
  uint32_t allowed = limits.max_retries;
  if (limits.retry_budget_enabled) {
    uint32_t active = resources_->active_requests.load(std::memory_order_relaxed);
    allowed =
        std::max<uint32_t>(limits.min_retry_concurrency,
                           static_cast<uint32_t>(active * limits.retry_budget_percent / 100.0));
  }
  return resources_->active_retries.load(std::memory_order_relaxed) < allowed;
}

RetryState::Decision RetryState::onFailure(RetryFailure failure, const http::HeaderMap* response,
                                           const config::ClusterConfig& limits,
                                           std::mt19937_64& rng) {
  if (!policy_.enabled() || !retriable(failure, response)) return Decision::kNoRetry;
  if (retries_ >= policy_.num_retries) return Decision::kLimitExceeded;
  // A request already retrying keeps its slot: the budget bounds requests
  // in retry, not retry attempts.
  if (!holds_slot_) {
    if (!budgetAllows(limits)) {
      if (stats_ != nullptr) {
        stats::inc(limits.retry_budget_enabled ? stats_->rq_retry_budget_exhausted
                                               : stats_->rq_retry_overflow);
      }
      return Decision::kBudgetExceeded;
    }
    resources_->active_retries.fetch_add(1, std::memory_order_relaxed);
    holds_slot_ = true;
  }
  if (stats_ != nullptr) {
    stats::inc(stats_->rq_retry);
    stats::inc(stats_->rq_retry_by_reason[static_cast<int>(failure)]);
  }
  // Exponential backoff with full jitter.
  uint64_t ceiling = policy_.backoff_base_ms << std::min<uint32_t>(retries_, 16);
  ceiling = std::min(ceiling, policy_.backoff_max_ms);
  backoff_ms_ = rng() % (ceiling + 1);
  ++retries_;
  return Decision::kRetry;
}

}  // namespace weft::router
