#pragma once

// The router of one request (Envoy's router filter): picks the cluster of
// the route (a weighted split's pick), holds its circuit breaker, and runs
// the attempts: a host chosen from the cluster as it is *now* (a retry after
// a push picks among today's hosts), an UpstreamRequest on that host's pool,
// the route timeout and per-try timeout, and retries decided by a
// RetryState. It forwards the response to its RouterCallbacks (the
// downstream stream) and never answers the client itself: local replies go
// through the callbacks, so gRPC shaping and response flags live in one
// place.
//
// The request body is kept whole while a retry may still need to replay it
// (up to kMaxReplayBody); nothing is retried once the response has started
// towards the client.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/event/dispatcher.h"
#include "common/http/codec.h"
#include "proxy/config/route_table.h"
#include "proxy/router/retry_state.h"
#include "proxy/router/shadow_request.h"
#include "proxy/router/upstream_request.h"
#include "proxy/upstream/cluster_manager.h"

namespace weft::router {

// The downstream side of a routed request, as the router sees it.
class RouterCallbacks {
 public:
  virtual ~RouterCallbacks() = default;
  // The upstream response, forwarded (the route's header mutations applied).
  virtual void onResponseHeaders(http::HeaderMap& headers, bool end_stream) = 0;
  virtual void onResponseData(std::string_view data, bool end_stream) = 0;
  virtual void onResponseTrailers(http::HeaderMap& trailers) = 0;
  // The router's own answer before any upstream response began (no healthy
  // upstream, overflow, timeout, exhausted retries): ends the stream.
  virtual void onLocalReply(int code, std::string_view body, uint32_t flags, bool overflow,
                            std::optional<int> grpc_status) = 0;
  // The upstream failed or timed out after the response began: the client
  // must see a reset, not a truncated success.
  virtual void onResponseReset(http::StreamResetReason reason, uint32_t flags) = 0;
  // A 101 or a CONNECT 2xx: bytes now flow as a tunnel, which the stream's
  // own timeouts must not cut.
  virtual void onTunnelEstablished() = 0;
  // Request-body flow control: pause (true) / resume reading from the client.
  virtual void setRequestReadDisabled(bool disabled) = 0;
  // Response flags that do not end the stream by themselves (URX).
  virtual void addResponseFlags(uint32_t flags) = 0;
  // Bytes of the response arrived (the stream's idle timeout).
  virtual void onActivity() = 0;
};

class Router : private UpstreamRequestCallbacks {
 public:
  // `request` is the stream's request headers, which the router rewrites
  // (route rewrites once, attempt count and grpc-timeout per attempt) and
  // which outlive it; `routes` keeps `route` alive. `end_stream`: the
  // request was headers only.
  Router(RouterCallbacks& callbacks, event::Dispatcher& dispatcher, upstream::ClusterManager& cm,
         std::shared_ptr<const config::RouteTable> routes, const config::RouteEntry& route,
         http::HeaderMap& request, bool end_stream, bool grpc);
  ~Router() override;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Chooses the cluster, checks its breaker, sets the deadline, starts the
  // first attempt. Body bytes that arrived before are buffered and sent.
  void start();
  void decodeData(std::string_view data, bool end_stream);
  void decodeTrailers(http::HeaderMap&& trailers);
  // The stream ended (answered, reset or timed out): abandons the attempt,
  // the timers and the retry slot. Nothing is reported after it.
  void cancel();
  // The client is slow to read the response: pause / resume the upstream.
  void readDisableUpstream(bool disable);
  // Outbound in a mesh: `header` (this sidecar's peer metadata) goes to the
  // destination on a TLS cluster, with the Service routed to. Before start().
  void setPeerMetadata(const std::string* header) { peer_metadata_ = header; }
  // The client's address (source-IP hash policies). Before start().
  void setDownstreamAddress(const network::Address* address) { downstream_ = address; }
  // The cluster chosen, or empty before start() / when none was found.
  std::string_view clusterName() const;
  // The Service its name says it reaches (ClusterConfig::service), or empty.
  std::string_view clusterService() const;
  // True when the chosen cluster originates TLS: its peers are sidecars
  // whose answers (peer metadata) may be believed.
  // The last attempt's host, or nullptr when none was chosen.
  const network::Address* upstreamAddress() const {
    return last_host_ == nullptr ? nullptr : &last_host_->address();
  }
  bool meshCluster() const { return cluster_ != nullptr && cluster_->config().tls != nullptr; }
  // The request's duration into the cluster's histogram, once one was chosen.
  void recordRequestTime(uint64_t elapsed_ms);

 private:
  // UpstreamRequestCallbacks
  void onUpstreamReady(UpstreamRequest& attempt, http::StreamEncoder& encoder) override;
  void onUpstreamFailure(UpstreamRequest& attempt, upstream::PoolFailureReason reason) override;
  void onUpstreamHeaders(UpstreamRequest& attempt, http::HeaderMap&& headers,
                         bool end_stream) override;
  void onUpstreamData(UpstreamRequest& attempt, std::string_view data, bool end_stream) override;
  void onUpstreamTrailers(UpstreamRequest& attempt, http::HeaderMap&& trailers) override;
  void onUpstreamReset(UpstreamRequest& attempt, http::StreamResetReason reason) override;
  void onUpstreamWatermark(bool above) override;

  bool live(const UpstreamRequest& attempt) const {
    return !cancelled_ && &attempt == upstream_.get();
  }
  void startAttempt();
  void applyRouteRewrites();
  // The route's mirrors that roll in: copies of this request, fire and forget.
  void startMirrors();
  void forEachShadow(const std::function<void(ShadowRequest&)>& fn);
  void sendBody(http::StreamEncoder& encoder);
  // Retries when the policy, the attempts left and the budget allow; true
  // when a retry was scheduled (the current attempt is then abandoned).
  bool maybeRetry(RetryFailure failure, const http::HeaderMap* response);
  // The current attempt's outcome, for outlier detection.
  void reportOutcome(upstream::WorkerCluster::Result result);
  void releaseHost();
  void localReply(int code, std::string_view body, uint32_t flags, bool overflow = false,
                  std::optional<int> grpc_status = std::nullopt);
  void responseReset(http::StreamResetReason reason, uint32_t flags);
  // One timer serves the route deadline and the current attempt's per-try
  // deadline: it is armed for the sooner of the two.
  void armDeadlineTimer();
  void onDeadlineTimer();
  void onRouteTimeout();
  void onPerTryTimeout();
  void clearDeadlines();

  RouterCallbacks& callbacks_;
  event::Dispatcher& dispatcher_;
  upstream::ClusterManager& cm_;
  std::shared_ptr<const config::RouteTable> routes_;
  const config::RouteEntry& route_;
  http::HeaderMap& request_;
  const bool grpc_;
  const std::string* peer_metadata_ = nullptr;
  const network::Address* downstream_ = nullptr;
  // The route's hash_policy applied to this request (RING_HASH / MAGLEV),
  // the same for every attempt; and a made-up affinity cookie to set.
  std::optional<uint64_t> hash_;
  std::string set_cookie_;
  const config::WeightedTarget* target_ = nullptr;  // the weighted split's pick
  std::shared_ptr<upstream::WorkerCluster> cluster_;
  std::shared_ptr<upstream::ClusterResources> resources_;
  // The cluster manager owns them; a finished one is gone.
  std::vector<std::weak_ptr<ShadowRequest>> shadows_;
  bool counted_active_ = false;        // counted in the cluster's active requests
  upstream::WorkerHostPtr host_;       // the current attempt's host
  upstream::WorkerHostPtr last_host_;  // kept after the attempt, for the access log
  std::unique_ptr<RetryState> retry_;  // after cluster_: reads its stats
  std::unique_ptr<UpstreamRequest> upstream_;
  // Request body: kept whole while a retry may need to replay it; `sent_`
  // bytes of it went to the current attempt.
  std::string body_;
  size_t sent_ = 0;
  bool keep_body_ = false;
  bool request_complete_ = false;
  bool has_trailers_ = false;
  http::HeaderMap trailers_;
  bool started_ = false;
  bool response_started_ = false;
  bool cancelled_ = false;
  uint32_t attempts_ = 0;
  bool stale_retry_used_ = false;  // the free retry after a stale keep-alive connection
  uint64_t deadline_ms_ = 0;  // absolute (loop clock): the route timeout or grpc-timeout, if sooner
  uint64_t try_deadline_ms_ = 0;  // absolute: the current attempt's per-try timeout
  std::unique_ptr<event::Timer> deadline_timer_;
  std::unique_ptr<event::Timer> backoff_;
};

}  // namespace weft::router
