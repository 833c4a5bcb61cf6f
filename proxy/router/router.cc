#include "proxy/router/router.h"

#include <algorithm>

#include "common/base/logging.h"
#include "proxy/matcher/matcher.h"
#include "proxy/router/request_hash.h"
#include "proxy/stream_info/response_flags.h"
#include "proxy/workload/workload_metadata.h"

namespace weft::router {

using stream_info::flagBit;
using stream_info::ResponseFlag;

namespace {
// Request bodies buffered while the upstream connection opens; past this the
// downstream is paused instead of buffering more.
constexpr size_t kMaxBufferedRequestBody = 1024 * 1024;

// Request bodies kept for replay while a retry may still happen; past this,
// the request is no longer retried (Envoy's per-request buffer limit idea).
constexpr size_t kMaxReplayBody = 256 * 1024;

// gRPC's DEADLINE_EXCEEDED: what a gRPC client understands for a timeout.
constexpr int kGrpcDeadlineExceeded = 4;

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

uint32_t resetFlag(http::StreamResetReason reason) {
  using http::StreamResetReason;
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

std::string resetBeforeHeaders(const char* reason) {
  return std::string("upstream connect error or disconnect/reset before headers. reset reason: ") +
         reason;
}
}  // namespace

Router::Router(RouterCallbacks& callbacks, event::Dispatcher& dispatcher,
               upstream::ClusterManager& cm, std::shared_ptr<const config::RouteTable> routes,
               const config::RouteEntry& route, http::HeaderMap& request, bool end_stream,
               bool grpc)
    : callbacks_(callbacks),
      dispatcher_(dispatcher),
      cm_(cm),
      routes_(std::move(routes)),
      route_(route),
      request_(request),
      grpc_(grpc),
      keep_body_(route.retry.enabled() || idempotent(request.method())),
      request_complete_(end_stream) {}

Router::~Router() {
  if (upstream_) upstream_->cancel();
  upstream_.reset();  // before the host whose pool it used is let go
  releaseHost();
  retry_.reset();
  if (counted_active_) {
    resources_->active_requests.fetch_sub(1, std::memory_order_relaxed);
    stats::gaugeAdd(cluster_->stats().rq_active, -1);
  }
}

void Router::start() {
  if (cancelled_ || started_) return;
  started_ = true;
  target_ = route_.pickWeighted(cm_.rng()());
  const std::string& cluster_name = target_ != nullptr ? target_->cluster : route_.cluster;
  cluster_ = cm_.get(cluster_name);
  if (cluster_ == nullptr) {
    localReply(503, "unknown cluster '" + cluster_name + "'",
               flagBit(ResponseFlag::kNoClusterFound));
    return;
  }
  resources_ = cluster_->resources();
  // Circuit breaker: refuse at once rather than queue past the limit.
  if (resources_->active_requests.load(std::memory_order_relaxed) >=
      cluster_->config().max_requests) {
    stats::inc(cluster_->stats().rq_max_requests_overflow);
    localReply(503, "upstream overflow: max_requests", flagBit(ResponseFlag::kUpstreamOverflow),
               true);
    return;
  }
  resources_->active_requests.fetch_add(1, std::memory_order_relaxed);
  counted_active_ = true;
  stats::gaugeAdd(cluster_->stats().rq_active, 1);
  stats::inc(cluster_->stats().rq_total);
  if (route_.retry.enabled()) {
    retry_ = std::make_unique<RetryState>(route_.retry, resources_, &cluster_->stats());
  }
  if (!route_.hash_policies.empty()) {
    RequestHash hashed = hashRequest(route_.hash_policies, request_, downstream_, cm_.rng());
    hash_ = hashed.hash;
    set_cookie_ = std::move(hashed.set_cookie);
  }
  applyRouteRewrites();
  startMirrors();  // before this hop's own headers: each copy gets its own
  if (peer_metadata_ != nullptr && !peer_metadata_->empty() && meshCluster()) {
    // Only to a TLS cluster (a meshed destination): a peer outside the mesh
    // learns nothing about this workload.
    const std::string& service = cluster_->config().service;
    request_.set(workload::kPeerMetadataHeader,
                 service.empty() ? *peer_metadata_ : *peer_metadata_ + ",s=" + service);
  }
  // The deadline: the route timeout, or a gRPC client's own deadline when
  // it is sooner (grpc-timeout is honoured, and re-sent as what remains).
  uint64_t timeout_ms = route_.timeout_ms;
  if (const std::string* grpc_timeout = request_.get("grpc-timeout")) {
    if (auto ms = parseGrpcTimeout(*grpc_timeout)) {
      timeout_ms = timeout_ms == 0 ? *ms : std::min(timeout_ms, *ms);
    }
  }
  if (timeout_ms > 0) deadline_ms_ = dispatcher_.nowMs() + timeout_ms;
  startAttempt();
}

void Router::startMirrors() {
  for (const auto& mirror : route_.mirrors) {
    if (mirror.per_million < 1000000 && cm_.rng()() % 1000000 >= mirror.per_million) continue;
    auto shadow =
        ShadowRequest::start(dispatcher_, cm_, mirror.cluster, request_, peer_metadata_, body_,
                             request_complete_ && !has_trailers_, route_.timeout_ms);
    if (shadow != nullptr) shadows_.push_back(shadow);
  }
}

void Router::forEachShadow(const std::function<void(ShadowRequest&)>& fn) {
  for (const auto& weak : shadows_) {
    if (auto shadow = weak.lock()) fn(*shadow);
  }
}

void Router::applyRouteRewrites() {
  using PathKind = config::RouteEntry::PathKind;
  if (!route_.prefix_rewrite.empty() &&
      (route_.path_kind == PathKind::kPrefix || route_.path_kind == PathKind::kSeparatedPrefix)) {
    std::string path(request_.path());
    path = route_.prefix_rewrite + path.substr(std::min(path.size(), route_.path.size()));
    request_.set(":path", std::move(path));
  } else if (route_.regex_rewrite) {
    // Of the path alone: the query string is kept as it came.
    std::string_view full = request_.path();
    std::string_view path = matcher::pathWithoutQuery(full);
    std::string rewritten = route_.regex_rewrite->apply(path);
    if (rewritten.empty()) rewritten = "/";
    rewritten.append(full.substr(path.size()));
    request_.set(":path", std::move(rewritten));
  }
  if (!route_.host_rewrite.empty()) request_.set(":authority", route_.host_rewrite);
  if (target_ != nullptr) target_->request_mutation.apply(request_);
  routes_->requestMutation().apply(request_);
  route_.request_mutation.apply(request_);
}

void Router::startAttempt() {
  if (cancelled_) return;
  ++attempts_;
  releaseHost();
  // The cluster as it is now: a retry after a push picks among today's hosts.
  host_ = cluster_->pickHost(cm_.rng(), hash_);
  if (host_ == nullptr) {
    localReply(503, "no healthy upstream", flagBit(ResponseFlag::kNoHealthyUpstream));
    return;
  }
  cluster_->onRequestStart(*host_);
  last_host_ = host_;
  if (attempts_ > 1) request_.set("x-weft-attempt-count", std::to_string(attempts_));
  if (grpc_ && deadline_ms_ > 0) {
    uint64_t now = dispatcher_.nowMs();
    uint64_t left = deadline_ms_ > now ? deadline_ms_ - now : 1;
    request_.set("grpc-timeout", std::to_string(left) + "m");
  }
  sent_ = 0;
  if (upstream_) dispatcher_.deferDelete(std::move(upstream_));
  upstream_ = std::make_unique<UpstreamRequest>(static_cast<UpstreamRequestCallbacks&>(*this));
  if (route_.retry.per_try_timeout_ms > 0) {
    try_deadline_ms_ = dispatcher_.nowMs() + route_.retry.per_try_timeout_ms;
  }
  armDeadlineTimer();
  bool fresh = stale_retry_used_ && attempts_ > 1;
  upstream_->start(host_->pool(), fresh);
}

void Router::sendBody(http::StreamEncoder& encoder) {
  bool end = request_complete_ && !has_trailers_;
  if (sent_ < body_.size() || end) {
    encoder.encodeData(std::string_view(body_).substr(sent_), end);
    sent_ = body_.size();
  }
  if (!keep_body_) {  // no replay possible: do not hold the bytes
    body_.clear();
    sent_ = 0;
  }
  if (request_complete_ && has_trailers_) encoder.encodeTrailers(trailers_);
}

void Router::decodeData(std::string_view data, bool end_stream) {
  if (cancelled_) return;
  if (end_stream) request_complete_ = true;
  if (!shadows_.empty()) forEachShadow([&](ShadowRequest& s) { s.decodeData(data, end_stream); });
  body_.append(data);
  if (keep_body_ && body_.size() > kMaxReplayBody) keep_body_ = false;  // too big to replay
  if (http::StreamEncoder* encoder = upstream_ ? upstream_->encoder() : nullptr) {
    if (data.empty() && !end_stream) return;
    encoder->encodeData(std::string_view(body_).substr(sent_), end_stream);
    sent_ = body_.size();
    if (!keep_body_) {
      body_.clear();
      sent_ = 0;
    }
    return;
  }
  if (body_.size() > kMaxBufferedRequestBody) callbacks_.setRequestReadDisabled(true);
}

void Router::decodeTrailers(http::HeaderMap&& trailers) {
  if (cancelled_) return;
  request_complete_ = true;
  trailers_ = std::move(trailers);
  has_trailers_ = true;
  if (!shadows_.empty()) forEachShadow([&](ShadowRequest& s) { s.decodeTrailers(trailers_); });
  if (http::StreamEncoder* encoder = upstream_ ? upstream_->encoder() : nullptr) {
    if (sent_ < body_.size()) {
      encoder->encodeData(std::string_view(body_).substr(sent_), false);
      sent_ = body_.size();
    }
    encoder->encodeTrailers(trailers_);
  }
}

void Router::cancel() {
  if (cancelled_) return;
  cancelled_ = true;
  // A mirror of a request the client never finished is not sent short.
  if (!request_complete_) forEachShadow([](ShadowRequest& s) { s.abandon(); });
  shadows_.clear();
  if (upstream_) upstream_->cancel();
  clearDeadlines();
  if (backoff_) backoff_->disable();
  retry_.reset();  // the retry slot is free once the stream is over
}

void Router::readDisableUpstream(bool disable) {
  if (upstream_) upstream_->readDisable(disable);
}

std::string_view Router::clusterService() const {
  return cluster_ == nullptr ? std::string_view() : std::string_view(cluster_->config().service);
}

std::string_view Router::clusterName() const {
  return cluster_ == nullptr ? std::string_view() : std::string_view(cluster_->config().name);
}

void Router::recordRequestTime(uint64_t elapsed_ms) {
  if (cluster_ != nullptr) {
    stats::observe(cluster_->stats().rq_time_seconds, static_cast<double>(elapsed_ms) / 1000.0);
  }
}

void Router::reportOutcome(upstream::WorkerCluster::Result result) {
  if (host_ != nullptr) cluster_->reportResult(*host_, result);
}

void Router::releaseHost() {
  if (cluster_ != nullptr && host_ != nullptr) cluster_->onRequestEnd(*host_);
  host_ = nullptr;
}

void Router::localReply(int code, std::string_view body, uint32_t flags, bool overflow,
                        std::optional<int> grpc_status) {
  cancel();
  callbacks_.onLocalReply(code, body, flags, overflow, grpc_status);
}

void Router::responseReset(http::StreamResetReason reason, uint32_t flags) {
  cancel();
  callbacks_.onResponseReset(reason, flags);
}

// ---- the attempt's events ----

void Router::onUpstreamWatermark(bool above) { callbacks_.setRequestReadDisabled(above); }

void Router::onUpstreamReady(UpstreamRequest& attempt, http::StreamEncoder& encoder) {
  if (!live(attempt)) return;
  bool end_with_headers = request_complete_ && body_.empty() && !has_trailers_;
  encoder.encodeHeaders(request_, end_with_headers);
  if (!end_with_headers) sendBody(encoder);
  callbacks_.setRequestReadDisabled(false);
}

void Router::onUpstreamFailure(UpstreamRequest& attempt, upstream::PoolFailureReason reason) {
  if (!live(attempt)) return;
  if (reason == upstream::PoolFailureReason::kOverflow) {
    stats::inc(cluster_->stats().rq_overflow);
    localReply(503, "upstream overflow: max_pending_requests",
               flagBit(ResponseFlag::kUpstreamOverflow), true);
    return;
  }
  stats::inc(cluster_->stats().cx_connect_fail);
  reportOutcome(upstream::WorkerCluster::Result::kGatewayFailure);
  if (maybeRetry(RetryFailure::kConnectFailure, nullptr)) return;
  localReply(503, resetBeforeHeaders(failureText(reason)),
             flagBit(ResponseFlag::kUpstreamConnectionFailure));
}

bool Router::maybeRetry(RetryFailure failure, const http::HeaderMap* response) {
  if (cancelled_ || response_started_ || retry_ == nullptr || !keep_body_) return false;
  switch (retry_->onFailure(failure, response, cluster_->config(), cm_.rng())) {
    case RetryState::Decision::kNoRetry:
    case RetryState::Decision::kBudgetExceeded:
      return false;
    case RetryState::Decision::kLimitExceeded:
      // What the client gets now is the last attempt's failure.
      callbacks_.addResponseFlags(flagBit(ResponseFlag::kUpstreamRetryLimitExceeded));
      return false;
    case RetryState::Decision::kRetry:
      break;
  }
  upstream_->cancel();
  try_deadline_ms_ = 0;
  armDeadlineTimer();
  if (!backoff_) backoff_ = std::make_unique<event::Timer>(dispatcher_, [this] { startAttempt(); });
  backoff_->enableMs(retry_->backoffMs());
  return true;
}

void Router::onUpstreamHeaders(UpstreamRequest& attempt, http::HeaderMap&& headers,
                               bool end_stream) {
  if (!live(attempt) || response_started_) return;
  callbacks_.onActivity();
  int code = headers.statusCode();
  using Result = upstream::WorkerCluster::Result;
  reportOutcome(code >= 502 && code <= 504 ? Result::kGatewayFailure
                : code >= 500              ? Result::k5xx
                                           : Result::kSuccess);
  if (maybeRetry(RetryFailure::kStatus, &headers)) return;
  try_deadline_ms_ = 0;
  response_started_ = true;
  if (code == 101 || (request_.method() == "CONNECT" && code / 100 == 2)) {
    // A tunnel's bytes bypass the stream: the connection's own idle timeout governs it.
    clearDeadlines();
    callbacks_.onTunnelEstablished();
  }
  armDeadlineTimer();
  if (target_ != nullptr) target_->response_mutation.apply(headers);
  routes_->responseMutation().apply(headers);
  route_.response_mutation.apply(headers);
  if (!set_cookie_.empty()) headers.add("set-cookie", set_cookie_);
  if (code >= 500) stats::inc(cluster_->stats().rq_5xx);
  if (end_stream) cancel();  // the exchange is over: no timers, no retry slot
  callbacks_.onResponseHeaders(headers, end_stream);
}

void Router::onUpstreamData(UpstreamRequest& attempt, std::string_view data, bool end_stream) {
  if (!live(attempt) || !response_started_) return;
  callbacks_.onActivity();
  if (end_stream) cancel();
  callbacks_.onResponseData(data, end_stream);
}

void Router::onUpstreamTrailers(UpstreamRequest& attempt, http::HeaderMap&& trailers) {
  if (!live(attempt) || !response_started_) return;
  callbacks_.onActivity();
  cancel();
  callbacks_.onResponseTrailers(trailers);
}

void Router::onUpstreamReset(UpstreamRequest& attempt, http::StreamResetReason reason) {
  if (!live(attempt)) return;
  if (response_started_) {
    LOG_DEBUG("upstream reset mid-response (cluster %s, %s): resetting the downstream stream",
              cluster_->config().name.c_str(), http::resetReasonName(reason));
    responseReset(reason, resetFlag(reason));
    return;
  }
  // A keep-alive connection the upstream closed as we reused it: one free
  // retry on a fresh connection for idempotent requests (the "reset before
  // headers" 503s of other meshes). Not after a protocol error: then
  // response bytes did arrive, and the upstream may have acted on the request.
  if (reason != http::StreamResetReason::kProtocolError && attempt.reusedConnection() &&
      !attempt.responseStarted() && !stale_retry_used_ && idempotent(request_.method()) &&
      keep_body_) {
    stale_retry_used_ = true;
    upstream_->cancel();
    startAttempt();
    return;
  }
  reportOutcome(upstream::WorkerCluster::Result::kGatewayFailure);
  if (maybeRetry(RetryFailure::kReset, nullptr)) return;
  if (reason == http::StreamResetReason::kProtocolError) {
    // The upstream answered with something that is not HTTP (RFC 9112 §5.1: 502).
    localReply(502, "upstream sent an invalid response",
               flagBit(ResponseFlag::kUpstreamProtocolError));
    return;
  }
  localReply(503, resetBeforeHeaders(http::resetReasonName(reason)), resetFlag(reason));
}

// ---- deadlines ----

void Router::clearDeadlines() {
  deadline_ms_ = 0;
  try_deadline_ms_ = 0;
  if (deadline_timer_) deadline_timer_->disable();
}

void Router::armDeadlineTimer() {
  uint64_t next = deadline_ms_;
  if (try_deadline_ms_ != 0 && (next == 0 || try_deadline_ms_ < next)) next = try_deadline_ms_;
  if (cancelled_ || next == 0) {
    if (deadline_timer_) deadline_timer_->disable();
    return;
  }
  if (!deadline_timer_) {
    deadline_timer_ = std::make_unique<event::Timer>(dispatcher_, [this] { onDeadlineTimer(); });
  }
  deadline_timer_->armBy(next);
}

void Router::onDeadlineTimer() {
  uint64_t now = dispatcher_.nowMs();
  if (deadline_ms_ != 0 && now >= deadline_ms_) {
    onRouteTimeout();
  } else if (try_deadline_ms_ != 0 && now >= try_deadline_ms_) {
    try_deadline_ms_ = 0;
    onPerTryTimeout();
  } else {
    armDeadlineTimer();
  }
}

void Router::onPerTryTimeout() {
  if (cancelled_ || response_started_) return;
  stats::inc(cluster_->stats().rq_per_try_timeout);
  reportOutcome(upstream::WorkerCluster::Result::kGatewayFailure);
  if (maybeRetry(RetryFailure::kPerTryTimeout, nullptr)) return;
  localReply(504, "upstream per-try timeout", flagBit(ResponseFlag::kUpstreamRequestTimeout), false,
             kGrpcDeadlineExceeded);
}

void Router::onRouteTimeout() {
  if (cancelled_) return;
  stats::inc(cluster_->stats().rq_timeout);
  if (!response_started_) {
    localReply(504, "upstream request timeout", flagBit(ResponseFlag::kUpstreamRequestTimeout),
               false, kGrpcDeadlineExceeded);
  } else {
    responseReset(http::StreamResetReason::kLocalReset,
                  flagBit(ResponseFlag::kUpstreamRequestTimeout));
  }
}

}  // namespace weft::router
