#pragma once

// One request/response exchange through the router: the downstream side is a
// StreamDecoder fed by the server codec; each upstream attempt
// (UpstreamRequest) is a StreamDecoder fed by the client codec of a pooled
// connection. Retries replay the request (its body is kept while it fits the
// replay buffer) on a newly chosen host, after a jittered backoff, within the
// cluster's retry budget; nothing is retried once the response has started
// towards the client.

#include <memory>
#include <optional>
#include <string>

#include "proxy/event/dispatcher.h"
#include "proxy/http/codec.h"
#include "proxy/http/response_flags.h"
#include "proxy/http/upstream_request.h"
#include "proxy/router/route_table.h"
#include "proxy/upstream/cluster_manager.h"
#include "proxy/upstream/conn_pool.h"

namespace weft::http {

class ConnectionManager;
class ActiveStream;

class ActiveStream : public StreamDecoder, private UpstreamRequestCallbacks {
 public:
  ActiveStream(ConnectionManager& manager, StreamEncoder& response_encoder);
  ~ActiveStream() override;

  // StreamDecoder: the request
  void decodeHeaders(HeaderMap&& headers, bool end_stream) override;
  void decodeData(std::string_view data, bool end_stream) override;
  void decodeTrailers(HeaderMap&& trailers) override;
  void onResetStream(StreamResetReason reason) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

 private:
  enum class Failure { kConnectFailure, kReset, kPerTryTimeout, kStatus };

  void startAttempt();
  // After routing (and any injected delay): the cluster, the breakers, the
  // first attempt.
  void continueToUpstream();
  // An injected abort, rolled against the fault's percentage; true if sent.
  bool maybeInjectAbort(const router::FaultConfig& fault);
  // UpstreamRequestCallbacks
  void onUpstreamReady(UpstreamRequest& attempt, StreamEncoder& encoder) override;
  void onUpstreamFailure(UpstreamRequest& attempt, upstream::PoolFailureReason reason) override;
  void onUpstreamHeaders(UpstreamRequest& attempt, HeaderMap&& headers, bool end_stream) override;
  void onUpstreamData(UpstreamRequest& attempt, std::string_view data, bool end_stream) override;
  void onUpstreamTrailers(UpstreamRequest& attempt, HeaderMap&& trailers) override;
  void onUpstreamReset(UpstreamRequest& attempt, StreamResetReason reason) override;
  void onUpstreamWatermark(bool above) override;
  void onRouteTimeout();
  void onPerTryTimeout();
  // The connection manager's request_timeout and stream_idle_timeout: 408
  // before the response starts, a reset after.
  void onDownstreamTimeout(const char* what, uint32_t flag);
  // Activity either way pushes the idle deadline; the timer is re-armed
  // lazily when it fires, so busy streams cost no timer updates.
  void touch();
  // One timer per stream serves both the route deadline and the current
  // attempt's per-try deadline: it is armed for the sooner of the two.
  void armDeadlineTimer();
  void onDeadlineTimer();
  void clearTryDeadline() {
    try_deadline_ms_ = 0;
    armDeadlineTimer();
  }
  void clearDeadlines() {
    deadline_ms_ = 0;
    try_deadline_ms_ = 0;
    armDeadlineTimer();
  }

  // Retries when the policy, the attempts left and the budget allow; true
  // when a retry was scheduled (the current attempt is then abandoned).
  bool maybeRetry(Failure failure, const HeaderMap* response);
  bool retriable(Failure failure, const HeaderMap* response) const;
  void releaseHost();
  // The current attempt's outcome, for outlier detection.
  void reportOutcome(upstream::WorkerCluster::Result result);
  void endRetry();

  // A response made here: gRPC-shaped for gRPC requests (grpc_status, or
  // the HTTP-to-gRPC mapping), with `flags` recorded on the stream.
  void sendLocalReply(int code, std::string_view body, uint32_t flags, bool overflow = false,
                      std::optional<int> grpc_status = std::nullopt);
  static uint32_t resetFlag(StreamResetReason reason);
  bool authorize(const rbac::RbacEngine& engine);
  void finishResponse(int code);
  void finish();
  void rewriteRequest();
  void sendBody(StreamEncoder& encoder);

  ConnectionManager& manager_;
  StreamEncoder& response_encoder_;
  std::unique_ptr<UpstreamRequest> upstream_;
  HeaderMap request_headers_;
  HeaderMap request_trailers_;
  std::shared_ptr<const router::RouteTable> routes_;  // held for the stream's life
  const router::RouteEntry* route_ = nullptr;
  std::shared_ptr<upstream::WorkerCluster> cluster_;
  std::shared_ptr<upstream::ClusterResources> resources_;
  upstream::WorkerHostPtr host_;  // the current attempt's host
  // Request body: kept whole while a retry may need to replay it; `sent_`
  // bytes of it went to the current attempt.
  std::string body_;
  size_t sent_ = 0;
  bool keep_body_ = false;
  bool request_complete_ = false;
  bool has_trailers_ = false;
  bool response_started_ = false;
  bool response_complete_ = false;
  bool done_ = false;
  bool downstream_read_disabled_ = false;
  int response_code_ = 0;
  uint32_t attempts_ = 0;
  bool in_retry_ = false;          // counted in the cluster's active retries
  bool stale_retry_used_ = false;  // the free retry after a stale keep-alive connection
  bool counted_active_ = false;    // counted in the cluster's active requests
  uint64_t start_ms_ = 0;
  bool grpc_ = false;            // content-type application/grpc*
  uint32_t response_flags_ = 0;  // ResponseFlag bits: why it ended as it did
  uint64_t deadline_ms_ = 0;  // absolute (loop clock): the route timeout or grpc-timeout, if sooner
  uint64_t try_deadline_ms_ = 0;      // absolute: the current attempt's per-try timeout
  uint64_t request_deadline_ms_ = 0;  // absolute: the whole request received by then
  uint64_t idle_timeout_ms_ = 0;
  uint64_t last_activity_ms_ = 0;
  std::unique_ptr<event::Timer> deadline_timer_;
  std::unique_ptr<event::Timer> backoff_;
  std::unique_ptr<event::Timer> fault_delay_;
};

}  // namespace weft::http
