#pragma once

// One request's retries: whether a failed attempt is retried (the route's
// policy, the retries left, the cluster's retry budget or max_retries) and
// after what backoff. Its one slot in the cluster's active-retries count is
// taken at the first retry and given back when the state is destroyed, so
// the count always undoes exactly what it did (the counters outlive config
// pushes: they belong to the cluster's runtime, not to the snapshot).

#include <cstdint>
#include <memory>
#include <random>

#include "common/http/header_map.h"
#include "proxy/config/cluster_config.h"
#include "proxy/config/route_table.h"
#include "proxy/stats/stats.h"
#include "proxy/upstream/cluster_runtime.h"

namespace weft::router {

// What went wrong with an attempt; the order is the `reason` label order of
// weft_upstream_rq_retry_by_reason_total.
enum class RetryFailure { kConnectFailure = 0, kReset = 1, kPerTryTimeout = 2, kStatus = 3 };

class RetryState {
 public:
  // `policy` is immutable config the caller keeps alive (in the route table
  // it holds); `resources` are the cluster's live counters; `stats` outlives
  // this object (nullptr: not counted).
  RetryState(const config::RetryPolicy& policy,
             std::shared_ptr<upstream::ClusterResources> resources,
             const stats::ClusterStats* stats);
  ~RetryState();
  RetryState(const RetryState&) = delete;
  RetryState& operator=(const RetryState&) = delete;

  // Whether the policy covers this failure at all (`response` for kStatus).
  bool retriable(RetryFailure failure, const http::HeaderMap* response) const;

  enum class Decision {
    kNoRetry,         // not covered by the policy
    kLimitExceeded,   // covered, but the route's retries are used up
    kBudgetExceeded,  // covered, but the cluster has too many retries in flight
    kRetry,           // retry after backoffMs()
  };
  // Decides about a failed attempt under the cluster's limits as they are
  // now (a push may have changed them since the request began); on kRetry
  // the retry is counted (stats, the budget slot) and backoffMs() is the
  // jittered delay to wait.
  Decision onFailure(RetryFailure failure, const http::HeaderMap* response,
                     const config::ClusterConfig& limits, std::mt19937_64& rng);
  uint64_t backoffMs() const { return backoff_ms_; }
  uint32_t retriesGranted() const { return retries_; }

 private:
  bool budgetAllows(const config::ClusterConfig& limits) const;

  const config::RetryPolicy& policy_;
  std::shared_ptr<upstream::ClusterResources> resources_;
  const stats::ClusterStats* stats_;  // nullptr in tests
  uint32_t retries_ = 0;
  bool holds_slot_ = false;  // counted in resources_->active_retries
  uint64_t backoff_ms_ = 0;
};

}  // namespace weft::router
