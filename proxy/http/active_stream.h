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
#include "proxy/router/route_table.h"
#include "proxy/upstream/cluster_manager.h"
#include "proxy/upstream/conn_pool.h"

namespace weft::http {

class ConnectionManager;
class ActiveStream;

class UpstreamRequest : public StreamDecoder, public upstream::ConnPoolCallbacks {
 public:
  explicit UpstreamRequest(ActiveStream& parent) : parent_(parent) {}

  // `host` outlives the attempt: the stream holds it.
  void start(upstream::HttpConnPool& pool, bool fresh_connection);
  // Abandons this attempt (cancels a wait, or resets the stream).
  void cancel();
  // The request's encoder while the attempt is live; nullptr once its
  // response is complete or it was reset (the codec may then reuse or free it).
  StreamEncoder* encoder() { return encoder_; }
  // Pauses / resumes reading the response (nested); undone when the
  // attempt ends, so a connection never goes back to its pool paused.
  void readDisable(bool disable);
  bool reusedConnection() const { return reused_; }
  bool responseStarted() const { return response_started_; }

  // upstream::ConnPoolCallbacks
  void onPoolReady(StreamEncoder& encoder, bool reused) override;
  void onPoolFailure(upstream::PoolFailureReason reason) override;

  // StreamDecoder: the response
  void decodeHeaders(HeaderMap&& headers, bool end_stream) override;
  void decodeData(std::string_view data, bool end_stream) override;
  void decodeTrailers(HeaderMap&& trailers) override;
  void onResetStream(StreamResetReason reason) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

 private:
  // The response is complete: let go of the codec's stream.
  void onComplete();

  ActiveStream& parent_;
  upstream::HttpConnPool* pool_ = nullptr;
  upstream::HttpConnPool::PendingRequest* pending_ = nullptr;
  StreamEncoder* encoder_ = nullptr;
  bool complete_ = false;
  bool reused_ = false;
  bool response_started_ = false;
  bool cancelled_ = false;
  int read_disabled_ = 0;
};

class ActiveStream : public StreamDecoder {
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
  friend class UpstreamRequest;
  enum class Failure { kConnectFailure, kReset, kPerTryTimeout, kStatus };

  void startAttempt();
  // After routing (and any injected delay): the cluster, the breakers, the
  // first attempt.
  void continueToUpstream();
  // An injected abort, rolled against the fault's percentage; true if sent.
  bool maybeInjectAbort(const router::FaultConfig& fault);
  void onUpstreamReady(UpstreamRequest& attempt, StreamEncoder& encoder);
  void onUpstreamFailure(UpstreamRequest& attempt, upstream::PoolFailureReason reason);
  void onUpstreamHeaders(UpstreamRequest& attempt, HeaderMap&& headers, bool end_stream);
  void onUpstreamData(UpstreamRequest& attempt, std::string_view data, bool end_stream);
  void onUpstreamTrailers(UpstreamRequest& attempt, HeaderMap&& trailers);
  void onUpstreamReset(UpstreamRequest& attempt, StreamResetReason reason);
  void onRouteTimeout();
  void onPerTryTimeout();
  // The connection manager's request_timeout and stream_idle_timeout: 408
  // before the response starts, a reset after.
  void onDownstreamTimeout(const char* what);
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

  void sendLocalReply(int code, std::string_view body, bool overflow = false);
  void applyForwardedClientCert(const network::TransportInfo* tls);
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
  bool grpc_ = false;         // content-type application/grpc*
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
