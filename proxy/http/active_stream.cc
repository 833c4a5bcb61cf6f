#include "proxy/http/active_stream.h"

#include <cstdlib>

#include "proxy/common/logging.h"
#include "proxy/http/connection_manager.h"
#include "proxy/http/edge_headers.h"
#include "proxy/http/filters/fault_filter.h"
#include "proxy/http/filters/rbac_filter.h"
#include "proxy/http/filters/xfcc.h"
#include "proxy/http/local_reply.h"

namespace weft::http {

namespace {
// Request bodies buffered while the upstream connection opens; past this the
// downstream is paused instead of buffering more.
constexpr size_t kMaxBufferedRequestBody = 1024 * 1024;

const char* failureText(upstream::PoolFailureReason reason) {
  switch (reason) {
    case upstream::PoolFailureReason::kConnectFailure:
      return "connection failure";
    case upstream::PoolFailureReason::kTimeout:
      return "connection timeout";
    case upstream::PoolFailureReason::kOverflow:
      return "overflow";
  }
  return "unknown";
}

// Request bodies kept for replay while a retry may still happen; past this,
// the request is no longer retried (Envoy's per-request buffer limit idea).
constexpr size_t kMaxReplayBody = 256 * 1024;

bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

// grpc-timeout: up to 8 digits and a unit (H, M, S, m, u, n); ms, or nullopt.
std::optional<uint64_t> parseGrpcTimeout(const std::string& value) {
  if (value.size() < 2 || value.size() > 9) return std::nullopt;
  uint64_t n = 0;
  for (size_t i = 0; i + 1 < value.size(); ++i) {
    if (value[i] < '0' || value[i] > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(value[i] - '0');
  }
  switch (value.back()) {
    case 'H':
      return n * 3600000;
    case 'M':
      return n * 60000;
    case 'S':
      return n * 1000;
    case 'm':
      return n;
    case 'u':
      return (n + 999) / 1000;
    case 'n':
      return (n + 999999) / 1000000;
    default:
      return std::nullopt;
  }
}

uint32_t grpcRetryBit(const HeaderMap& headers) {
  const std::string* status = headers.get("grpc-status");
  if (status == nullptr) return 0;
  switch (std::atoi(status->c_str())) {
    case 1:
      return router::RetryPolicy::kGrpcCancelled;
    case 4:
      return router::RetryPolicy::kGrpcDeadlineExceeded;
    case 8:
      return router::RetryPolicy::kGrpcResourceExhausted;
    case 14:
      return router::RetryPolicy::kGrpcUnavailable;
    default:
      return 0;
  }
}
}  // namespace

// ---- ActiveStream ----

ActiveStream::ActiveStream(ConnectionManager& manager, StreamEncoder& response_encoder)
    : manager_(manager),
      response_encoder_(response_encoder),
      start_ms_(manager.context().dispatcher().nowMs()),
      idle_timeout_ms_(manager.chain().http.stream_idle_timeout_ms),
      last_activity_ms_(start_ms_) {
  if (manager.chain().http.request_timeout_ms > 0) {
    request_deadline_ms_ = start_ms_ + manager.chain().http.request_timeout_ms;
  }
}

ActiveStream::~ActiveStream() {
  if (upstream_) upstream_->cancel();
  upstream_.reset();  // before the host whose pool it used is let go
  releaseHost();
  endRetry();
  if (counted_active_) {
    resources_->active_requests.fetch_sub(1, std::memory_order_relaxed);
    stats::gaugeAdd(cluster_->stats().rq_active, -1);
  }
}

void ActiveStream::reportOutcome(upstream::WorkerCluster::Result result) {
  if (host_ != nullptr) cluster_->reportResult(*host_, result);
}

void ActiveStream::releaseHost() {
  if (cluster_ != nullptr && host_ != nullptr) cluster_->onRequestEnd(*host_);
  host_ = nullptr;
}

void ActiveStream::endRetry() {
  if (in_retry_) resources_->active_retries.fetch_sub(1, std::memory_order_relaxed);
  in_retry_ = false;
}

void ActiveStream::decodeHeaders(HeaderMap&& headers, bool end_stream) {
  request_headers_ = std::move(headers);
  request_complete_ = end_stream;
  if (end_stream) request_deadline_ms_ = 0;
  armDeadlineTimer();
  // Known before routing, so even "no route" answers a gRPC client in gRPC.
  grpc_ = isGrpcRequest(request_headers_);
  const auto& http = manager_.chain().http;
  // Before anything reads them (RBAC, route matches): what the edge may not claim.
  sanitizeAtEdge(request_headers_, http, manager_.connection().remoteAddress(),
                 manager_.connection().transportInfo() != nullptr);
  if (http.rbac && !authorize(*http.rbac)) return;
  routes_ = http.rds_name.empty() ? http.routes : manager_.context().currentRoutes(http.rds_name);
  route_ = routes_ ? routes_->route(request_headers_) : nullptr;
  if (route_ == nullptr) {
    sendLocalReply(404, "no route matched", flagBit(ResponseFlag::kNoRoute));
    return;
  }
  if (route_->direct_status != 0) {
    sendLocalReply(static_cast<int>(route_->direct_status), route_->direct_body, 0);
    return;
  }
  if (route_->idle_timeout_ms) {
    idle_timeout_ms_ = *route_->idle_timeout_ms;
    armDeadlineTimer();
  }
  if (const router::FaultConfig* fault = faultFor(*route_, http)) {
    if (rollFaultDelay(*fault, manager_.context().clusterManager().rng())) {
      response_flags_ |= flagBit(ResponseFlag::kDelayInjected);
      fault_delay_ = std::make_unique<event::Timer>(manager_.context().dispatcher(), [this, fault] {
        if (!done_ && !maybeInjectAbort(*fault)) continueToUpstream();
      });
      fault_delay_->enableMs(fault->delay_ms);
      return;
    }
    if (maybeInjectAbort(*fault)) return;
  }
  continueToUpstream();
}

bool ActiveStream::maybeInjectAbort(const router::FaultConfig& fault) {
  if (!rollFaultAbort(fault, manager_.context().clusterManager().rng())) return false;
  std::optional<int> grpc_status;
  if (fault.abort_grpc_status >= 0) {
    grpc_status = fault.abort_grpc_status;  // a gRPC abort answers gRPC even to non-gRPC clients
    grpc_ = true;
  }
  sendLocalReply(fault.abort_http_status, "fault filter abort",
                 flagBit(ResponseFlag::kFaultInjected), false, grpc_status);
  return true;
}

void ActiveStream::continueToUpstream() {
  auto& cm = manager_.context().clusterManager();
  const std::string& cluster_name = route_->pickCluster(cm.rng()());
  cluster_ = cm.get(cluster_name);
  if (cluster_ == nullptr) {
    sendLocalReply(503, "unknown cluster '" + cluster_name + "'",
                   flagBit(ResponseFlag::kNoClusterFound));
    return;
  }
  resources_ = cluster_->resources();
  // Circuit breaker: refuse at once rather than queue past the limit.
  if (resources_->active_requests.load(std::memory_order_relaxed) >=
      cluster_->config().max_requests) {
    stats::inc(cluster_->stats().rq_max_requests_overflow);
    sendLocalReply(503, "upstream overflow: max_requests", flagBit(ResponseFlag::kUpstreamOverflow),
                   true);
    return;
  }
  resources_->active_requests.fetch_add(1, std::memory_order_relaxed);
  counted_active_ = true;
  stats::gaugeAdd(cluster_->stats().rq_active, 1);
  stats::inc(cluster_->stats().rq_total);
  rewriteRequest();
  keep_body_ = route_->retry.enabled() || idempotent(request_headers_.method());
  // The deadline: the route timeout, or a gRPC client's own deadline when
  // it is sooner (grpc-timeout is honoured, and re-sent as what remains).
  uint64_t timeout_ms = route_->timeout_ms;
  if (const std::string* grpc_timeout = request_headers_.get("grpc-timeout")) {
    if (auto ms = parseGrpcTimeout(*grpc_timeout)) {
      timeout_ms = timeout_ms == 0 ? *ms : std::min(timeout_ms, *ms);
    }
  }
  if (timeout_ms > 0) deadline_ms_ = manager_.context().dispatcher().nowMs() + timeout_ms;
  startAttempt();
}

void ActiveStream::startAttempt() {
  if (done_) return;
  ++attempts_;
  releaseHost();
  auto& cm = manager_.context().clusterManager();
  // The cluster as it is now: a retry after a push picks among today's hosts.
  host_ = cluster_->pickHost(cm.rng());
  if (host_ == nullptr) {
    sendLocalReply(503, "no healthy upstream", flagBit(ResponseFlag::kNoHealthyUpstream));
    return;
  }
  cluster_->onRequestStart(*host_);
  if (attempts_ > 1) request_headers_.set("x-weft-attempt-count", std::to_string(attempts_));
  if (grpc_ && deadline_ms_ > 0) {
    uint64_t now = manager_.context().dispatcher().nowMs();
    uint64_t left = deadline_ms_ > now ? deadline_ms_ - now : 1;
    request_headers_.set("grpc-timeout", std::to_string(left) + "m");
  }
  sent_ = 0;
  if (upstream_) manager_.context().dispatcher().deferDelete(std::move(upstream_));
  upstream_ = std::make_unique<UpstreamRequest>(static_cast<UpstreamRequestCallbacks&>(*this));
  if (route_->retry.per_try_timeout_ms > 0) {
    try_deadline_ms_ = manager_.context().dispatcher().nowMs() + route_->retry.per_try_timeout_ms;
  }
  armDeadlineTimer();
  bool fresh = stale_retry_used_ && attempts_ > 1;
  upstream_->start(host_->pool(), fresh);
}

void ActiveStream::rewriteRequest() {
  if (!route_->prefix_rewrite.empty() &&
      route_->path_kind == router::RouteEntry::PathKind::kPrefix) {
    std::string path(request_headers_.path());
    path = route_->prefix_rewrite + path.substr(std::min(path.size(), route_->path.size()));
    request_headers_.set(":path", std::move(path));
  }
  if (!route_->host_rewrite.empty()) request_headers_.set(":authority", route_->host_rewrite);
  routes_->requestMutation().apply(request_headers_);
  route_->request_mutation.apply(request_headers_);
  const network::TransportInfo* tls = manager_.connection().transportInfo();
  if (!request_headers_.has("x-forwarded-proto")) {
    request_headers_.add("x-forwarded-proto", tls != nullptr ? "https" : "http");
  }
  applyForwardedClientCert(request_headers_, manager_.chain().http, tls);
}

bool ActiveStream::authorize(const rbac::RbacEngine& engine) {
  if (rbacAllows(engine, request_headers_, manager_.connection().transportInfo(),
                 manager_.stats())) {
    return true;
  }
  sendLocalReply(403, "RBAC: access denied", flagBit(ResponseFlag::kUnauthorized));
  return false;
}

void ActiveStream::sendBody(StreamEncoder& encoder) {
  bool end = request_complete_ && !has_trailers_;
  if (sent_ < body_.size() || end) {
    encoder.encodeData(std::string_view(body_).substr(sent_), end);
    sent_ = body_.size();
  }
  if (!keep_body_) {  // no replay possible: do not hold the bytes
    body_.clear();
    sent_ = 0;
  }
  if (request_complete_ && has_trailers_) encoder.encodeTrailers(request_trailers_);
}

void ActiveStream::decodeData(std::string_view data, bool end_stream) {
  if (done_ || response_complete_) return;
  touch();
  if (end_stream) {
    request_complete_ = true;
    request_deadline_ms_ = 0;
  }
  body_.append(data);
  if (keep_body_ && body_.size() > kMaxReplayBody) keep_body_ = false;  // too big to replay
  if (StreamEncoder* encoder = upstream_ ? upstream_->encoder() : nullptr) {
    if (data.empty() && !end_stream) return;
    encoder->encodeData(std::string_view(body_).substr(sent_), end_stream);
    sent_ = body_.size();
    if (!keep_body_) {
      body_.clear();
      sent_ = 0;
    }
    return;
  }
  if (body_.size() > kMaxBufferedRequestBody && !downstream_read_disabled_) {
    downstream_read_disabled_ = true;
    response_encoder_.readDisable(true);
  }
}

void ActiveStream::decodeTrailers(HeaderMap&& trailers) {
  if (done_ || response_complete_) return;
  touch();
  request_complete_ = true;
  request_deadline_ms_ = 0;
  request_trailers_ = std::move(trailers);
  has_trailers_ = true;
  if (StreamEncoder* encoder = upstream_ ? upstream_->encoder() : nullptr) {
    if (sent_ < body_.size()) {
      encoder->encodeData(std::string_view(body_).substr(sent_), false);
      sent_ = body_.size();
    }
    encoder->encodeTrailers(request_trailers_);
  }
}

void ActiveStream::onResetStream(StreamResetReason) {
  // The client went away: abandon the upstream side too.
  if (done_) return;
  response_complete_ = true;
  response_flags_ |= flagBit(ResponseFlag::kDownstreamConnectionTermination);
  if (upstream_) upstream_->cancel();
  finish();
}

void ActiveStream::onAboveWriteBufferHighWatermark() {
  // The client is slow to read the response: stop reading from upstream.
  if (upstream_) upstream_->readDisable(true);
}

void ActiveStream::onBelowWriteBufferLowWatermark() {
  if (upstream_) upstream_->readDisable(false);
}

void ActiveStream::onUpstreamWatermark(bool above) {
  if (above == downstream_read_disabled_) return;
  downstream_read_disabled_ = above;
  response_encoder_.readDisable(above);
}

void ActiveStream::onUpstreamReady(UpstreamRequest& attempt, StreamEncoder& encoder) {
  if (&attempt != upstream_.get()) return;
  bool end_with_headers = request_complete_ && body_.empty() && !has_trailers_;
  encoder.encodeHeaders(request_headers_, end_with_headers);
  if (!end_with_headers) sendBody(encoder);
  if (downstream_read_disabled_) {
    downstream_read_disabled_ = false;
    response_encoder_.readDisable(false);
  }
}

void ActiveStream::onUpstreamFailure(UpstreamRequest& attempt, upstream::PoolFailureReason reason) {
  if (&attempt != upstream_.get() || done_) return;
  if (reason == upstream::PoolFailureReason::kOverflow) {
    stats::inc(cluster_->stats().rq_overflow);
    sendLocalReply(503, "upstream overflow: max_pending_requests",
                   flagBit(ResponseFlag::kUpstreamOverflow), true);
    return;
  }
  stats::inc(cluster_->stats().cx_connect_fail);
  reportOutcome(upstream::WorkerCluster::Result::kGatewayFailure);
  if (maybeRetry(Failure::kConnectFailure, nullptr)) return;
  sendLocalReply(503,
                 std::string("upstream connect error or disconnect/reset before headers. "
                             "reset reason: ") +
                     failureText(reason),
                 flagBit(ResponseFlag::kUpstreamConnectionFailure));
}

bool ActiveStream::retriable(Failure failure, const HeaderMap* response) const {
  using P = router::RetryPolicy;
  uint32_t on = route_->retry.retry_on;
  switch (failure) {
    case Failure::kConnectFailure:
      return (on & (P::kConnectFailure | P::k5xx | P::kGatewayError)) != 0;
    case Failure::kReset:
      return (on & (P::kReset | P::k5xx)) != 0;
    case Failure::kPerTryTimeout:
      return (on & (P::k5xx | P::kGatewayError | P::kReset)) != 0;
    case Failure::kStatus: {
      int code = response->statusCode();
      if ((on & P::k5xx) && code >= 500) return true;
      if ((on & P::kGatewayError) && code >= 502 && code <= 504) return true;
      if (on & P::kRetriableStatusCodes) {
        for (uint32_t c : route_->retry.retriable_status_codes) {
          if (static_cast<int>(c) == code) return true;
        }
      }
      return (on & grpcRetryBit(*response)) != 0;
    }
  }
  return false;
}

bool ActiveStream::maybeRetry(Failure failure, const HeaderMap* response) {
  if (done_ || response_started_ || !route_->retry.enabled()) return false;
  if (!retriable(failure, response)) return false;
  uint32_t retries_done = attempts_ - 1 - (stale_retry_used_ ? 1 : 0);
  if (retries_done >= route_->retry.num_retries) {
    // What the client gets now is the last attempt's failure.
    response_flags_ |= flagBit(ResponseFlag::kUpstreamRetryLimitExceeded);
    return false;
  }
  if (!keep_body_) return false;  // the body could not be kept for replay
  const auto& config = cluster_->config();
  if (!in_retry_) {
    // The budget: retries in flight stay under a share of requests in flight;
    // without one, under max_retries.
    uint32_t allowed = config.max_retries;
    if (config.retry_budget_enabled) {
      uint32_t active = resources_->active_requests.load(std::memory_order_relaxed);
      allowed =
          std::max<uint32_t>(config.min_retry_concurrency,
                             static_cast<uint32_t>(active * config.retry_budget_percent / 100.0));
    }
    if (resources_->active_retries.load(std::memory_order_relaxed) >= allowed) {
      stats::inc(config.retry_budget_enabled ? cluster_->stats().rq_retry_budget_exhausted
                                             : cluster_->stats().rq_retry_overflow);
      return false;
    }
    resources_->active_retries.fetch_add(1, std::memory_order_relaxed);
    in_retry_ = true;
  }
  stats::inc(cluster_->stats().rq_retry);
  stats::inc(cluster_->stats().rq_retry_by_reason[static_cast<int>(failure)]);
  upstream_->cancel();
  clearTryDeadline();
  // Exponential backoff with full jitter.
  uint64_t ceiling = route_->retry.backoff_base_ms << std::min<uint32_t>(retries_done, 16);
  ceiling = std::min(ceiling, route_->retry.backoff_max_ms);
  uint64_t delay = manager_.context().clusterManager().rng()() % (ceiling + 1);
  if (!backoff_) {
    backoff_ =
        std::make_unique<event::Timer>(manager_.context().dispatcher(), [this] { startAttempt(); });
  }
  backoff_->enableMs(delay);
  return true;
}

void ActiveStream::onUpstreamHeaders(UpstreamRequest& attempt, HeaderMap&& headers,
                                     bool end_stream) {
  if (&attempt != upstream_.get() || done_ || response_started_) return;
  touch();
  int code = headers.statusCode();
  using Result = upstream::WorkerCluster::Result;
  reportOutcome(code >= 502 && code <= 504 ? Result::kGatewayFailure
                : code >= 500              ? Result::k5xx
                                           : Result::kSuccess);
  if (maybeRetry(Failure::kStatus, &headers)) return;
  clearTryDeadline();
  response_started_ = true;
  response_code_ = headers.statusCode();
  bool tunnel_up = response_code_ == 101 ||
                   (request_headers_.method() == "CONNECT" && response_code_ / 100 == 2);
  if (tunnel_up) {
    // A tunnel's bytes bypass the stream: the connection's own idle timeout governs it.
    idle_timeout_ms_ = 0;
    request_deadline_ms_ = 0;
    clearDeadlines();
  }
  routes_->responseMutation().apply(headers);
  route_->response_mutation.apply(headers);
  if (response_code_ >= 500) stats::inc(cluster_->stats().rq_5xx);
  if (end_stream) {
    response_complete_ = true;
    clearDeadlines();
  }
  response_encoder_.encodeHeaders(headers, end_stream);
  if (end_stream) finishResponse(response_code_);
}

void ActiveStream::onUpstreamData(UpstreamRequest& attempt, std::string_view data,
                                  bool end_stream) {
  if (&attempt != upstream_.get() || done_ || !response_started_) return;
  touch();
  if (end_stream) {
    response_complete_ = true;
    clearDeadlines();
  }
  response_encoder_.encodeData(data, end_stream);
  if (end_stream) finishResponse(response_code_);
}

void ActiveStream::onUpstreamTrailers(UpstreamRequest& attempt, HeaderMap&& trailers) {
  if (&attempt != upstream_.get() || done_ || !response_started_) return;
  touch();
  response_complete_ = true;
  clearDeadlines();
  response_encoder_.encodeTrailers(trailers);
  finishResponse(response_code_);
}

void ActiveStream::onUpstreamReset(UpstreamRequest& attempt, StreamResetReason reason) {
  if (&attempt != upstream_.get() || done_) return;
  if (!response_started_) {
    // A keep-alive connection the upstream closed as we reused it: one free
    // retry on a fresh connection for idempotent requests (the "reset before
    // headers" 503s of other meshes).
    // Not after a protocol error: then response bytes did arrive, and the
    // upstream may have acted on the request.
    if (reason != StreamResetReason::kProtocolError && attempt.reusedConnection() &&
        !attempt.responseStarted() && !stale_retry_used_ && idempotent(request_headers_.method()) &&
        keep_body_) {
      stale_retry_used_ = true;
      upstream_->cancel();
      startAttempt();
      return;
    }
    reportOutcome(upstream::WorkerCluster::Result::kGatewayFailure);
    if (maybeRetry(Failure::kReset, nullptr)) return;
    if (reason == StreamResetReason::kProtocolError) {
      // The upstream answered with something that is not HTTP (RFC 9112 §5.1: 502).
      sendLocalReply(502, "upstream sent an invalid response",
                     flagBit(ResponseFlag::kUpstreamProtocolError));
      return;
    }
    sendLocalReply(503,
                   std::string("upstream connect error or disconnect/reset before headers. "
                               "reset reason: ") +
                       resetReasonName(reason),
                   resetFlag(reason));
    return;
  }
  // Mid-response: the client must see the failure, not a truncated success.
  LOG_DEBUG("upstream reset mid-response (cluster %s, %s): resetting the downstream stream",
            cluster_->config().name.c_str(), resetReasonName(reason));
  response_complete_ = true;
  response_flags_ |= resetFlag(reason);
  response_encoder_.resetStream(reason);
  finishResponse(response_code_);
}

void ActiveStream::armDeadlineTimer() {
  uint64_t next = 0;
  auto sooner = [&next](uint64_t deadline) {
    if (deadline != 0 && (next == 0 || deadline < next)) next = deadline;
  };
  if (!done_) {
    sooner(deadline_ms_);
    sooner(try_deadline_ms_);
    sooner(request_deadline_ms_);
    if (idle_timeout_ms_ > 0) sooner(last_activity_ms_ + idle_timeout_ms_);
  }
  if (next == 0) {
    if (deadline_timer_) deadline_timer_->disable();
    return;
  }
  if (!deadline_timer_) {
    deadline_timer_ = std::make_unique<event::Timer>(manager_.context().dispatcher(),
                                                     [this] { onDeadlineTimer(); });
  }
  uint64_t now = manager_.context().dispatcher().nowMs();
  deadline_timer_->enableMs(next > now ? next - now : 0);
}

void ActiveStream::onDeadlineTimer() {
  uint64_t now = manager_.context().dispatcher().nowMs();
  if (request_deadline_ms_ != 0 && now >= request_deadline_ms_) {
    request_deadline_ms_ = 0;
    onDownstreamTimeout("request timeout", flagBit(ResponseFlag::kDownstreamRequestTimeout));
  } else if (idle_timeout_ms_ > 0 && now >= last_activity_ms_ + idle_timeout_ms_) {
    onDownstreamTimeout("stream idle timeout", flagBit(ResponseFlag::kStreamIdleTimeout));
  } else if (deadline_ms_ != 0 && now >= deadline_ms_) {
    onRouteTimeout();
  } else if (try_deadline_ms_ != 0 && now >= try_deadline_ms_) {
    try_deadline_ms_ = 0;
    onPerTryTimeout();
  } else {
    armDeadlineTimer();
  }
}

void ActiveStream::touch() { last_activity_ms_ = manager_.context().dispatcher().nowMs(); }

void ActiveStream::onDownstreamTimeout(const char* what, uint32_t flag) {
  if (done_) return;
  stats::inc(manager_.stats().rq_downstream_timeout);
  if (upstream_) upstream_->cancel();
  if (backoff_) backoff_->disable();
  if (!response_started_) {
    sendLocalReply(408, what, flag);
    return;
  }
  response_complete_ = true;
  response_flags_ |= flag;
  response_encoder_.resetStream(StreamResetReason::kLocalReset);
  finishResponse(response_code_);
}

void ActiveStream::onPerTryTimeout() {
  if (done_ || response_started_) return;
  stats::inc(cluster_->stats().rq_per_try_timeout);
  reportOutcome(upstream::WorkerCluster::Result::kGatewayFailure);
  if (maybeRetry(Failure::kPerTryTimeout, nullptr)) return;
  upstream_->cancel();
  sendLocalReply(504, "upstream per-try timeout", flagBit(ResponseFlag::kUpstreamRequestTimeout),
                 false, 4);
}

void ActiveStream::onRouteTimeout() {
  if (done_) return;
  stats::inc(cluster_->stats().rq_timeout);
  if (upstream_) upstream_->cancel();
  if (backoff_) backoff_->disable();
  if (!response_started_) {
    // A gRPC client understands DEADLINE_EXCEEDED, not an HTTP 504.
    sendLocalReply(504, "upstream request timeout", flagBit(ResponseFlag::kUpstreamRequestTimeout),
                   false, 4);
  } else {
    response_complete_ = true;
    response_flags_ |= flagBit(ResponseFlag::kUpstreamRequestTimeout);
    response_encoder_.resetStream(StreamResetReason::kLocalReset);
    finishResponse(response_code_);
  }
}

void ActiveStream::sendLocalReply(int code, std::string_view body, uint32_t flags, bool overflow,
                                  std::optional<int> grpc_status) {
  if (done_) return;
  if (upstream_) upstream_->cancel();
  clearDeadlines();
  clearTryDeadline();
  if (backoff_) backoff_->disable();
  response_started_ = true;
  response_complete_ = true;
  response_flags_ |= flags;
  encodeLocalReply(response_encoder_, grpc_, code, body, grpc_status, overflow);
  finishResponse(grpc_ ? 200 : code);
}

uint32_t ActiveStream::resetFlag(StreamResetReason reason) {
  switch (reason) {
    case StreamResetReason::kConnectionTermination:
    case StreamResetReason::kConnectionFailure:
      return flagBit(ResponseFlag::kUpstreamConnectionTermination);
    case StreamResetReason::kLocalReset:
      return flagBit(ResponseFlag::kLocalReset);
    case StreamResetReason::kProtocolError:
      return flagBit(ResponseFlag::kUpstreamProtocolError);
    case StreamResetReason::kRemoteReset:
      break;
  }
  return flagBit(ResponseFlag::kUpstreamRemoteReset);
}

void ActiveStream::finishResponse(int code) {
  stats::countResponseCode(manager_.stats(), code);
  if (cluster_ != nullptr && response_started_ && code != 0) {
    uint64_t elapsed = manager_.context().dispatcher().nowMs() - start_ms_;
    stats::observe(cluster_->stats().rq_time_ms, static_cast<double>(elapsed));
  }
  finish();
}

void ActiveStream::finish() {
  if (done_) return;
  done_ = true;
  for (int i = 0; response_flags_ != 0 && i < kResponseFlagCount; ++i) {
    if (response_flags_ & (1u << i))
      stats::countResponseFlag(manager_.stats(), responseFlagName(i));
  }
  clearDeadlines();
  clearTryDeadline();
  if (backoff_) backoff_->disable();
  if (fault_delay_) fault_delay_->disable();
  endRetry();
  // Undo flow-control holds this stream placed on shared connections.
  if (downstream_read_disabled_) {
    downstream_read_disabled_ = false;
    response_encoder_.readDisable(false);
  }
  // Nothing the client sends on this stream from now on reaches it.
  response_encoder_.releaseDecoder(*this);
  manager_.onStreamDone(this);
}

}  // namespace weft::http
