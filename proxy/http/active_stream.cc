#include "proxy/http/active_stream.h"

#include "proxy/common/logging.h"
#include "proxy/http/connection_manager.h"

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
}  // namespace

// ---- UpstreamRequest ----

void UpstreamRequest::start(upstream::HttpConnPool& pool) {
  pool_ = &pool;
  pending_ = pool.newStream(*this, *this);
}

void UpstreamRequest::cancel() {
  if (pending_ != nullptr) {
    pool_->cancel(pending_);
    pending_ = nullptr;
  }
  if (encoder_ != nullptr && !complete_) {
    StreamEncoder* e = encoder_;
    encoder_ = nullptr;
    e->resetStream(StreamResetReason::kLocalReset);
  }
  encoder_ = nullptr;
}

void UpstreamRequest::onPoolReady(StreamEncoder& encoder) {
  pending_ = nullptr;
  encoder_ = &encoder;
  parent_.onUpstreamReady(encoder);
}

void UpstreamRequest::onPoolFailure(upstream::PoolFailureReason reason) {
  pending_ = nullptr;
  parent_.onUpstreamFailure(reason);
}

void UpstreamRequest::decodeHeaders(HeaderMap&& headers, bool end_stream) {
  if (end_stream) complete_ = true;
  parent_.onUpstreamHeaders(std::move(headers), end_stream);
}

void UpstreamRequest::decodeData(std::string_view data, bool end_stream) {
  if (end_stream) complete_ = true;
  parent_.onUpstreamData(data, end_stream);
}

void UpstreamRequest::decodeTrailers(HeaderMap&& trailers) {
  complete_ = true;
  parent_.onUpstreamTrailers(std::move(trailers));
}

void UpstreamRequest::onResetStream(StreamResetReason reason) {
  encoder_ = nullptr;
  parent_.onUpstreamReset(reason);
}

void UpstreamRequest::onAboveWriteBufferHighWatermark() {
  // The upstream connection is congested: stop reading the request body.
  if (!parent_.downstream_read_disabled_) {
    parent_.downstream_read_disabled_ = true;
    parent_.response_encoder_.readDisable(true);
  }
}

void UpstreamRequest::onBelowWriteBufferLowWatermark() {
  if (parent_.downstream_read_disabled_) {
    parent_.downstream_read_disabled_ = false;
    parent_.response_encoder_.readDisable(false);
  }
}

// ---- ActiveStream ----

ActiveStream::ActiveStream(ConnectionManager& manager, StreamEncoder& response_encoder)
    : manager_(manager),
      response_encoder_(response_encoder),
      start_ms_(manager.context().dispatcher().nowMs()) {}

ActiveStream::~ActiveStream() {
  if (cluster_ != nullptr && host_ >= 0) {
    cluster_->onRequestEnd(host_);
    stats::gaugeAdd(cluster_->stats().rq_active, -1);
  }
}

void ActiveStream::decodeHeaders(HeaderMap&& headers, bool end_stream) {
  request_headers_ = std::move(headers);
  request_complete_ = end_stream;
  const auto& http = manager_.chain().http;
  routes_ = http.rds_name.empty() ? http.routes : manager_.context().currentRoutes(http.rds_name);
  route_ = routes_ ? routes_->route(request_headers_) : nullptr;
  if (route_ == nullptr) {
    sendLocalReply(404, "no route matched");
    return;
  }
  if (route_->direct_status != 0) {
    sendLocalReply(static_cast<int>(route_->direct_status), route_->direct_body);
    return;
  }
  auto& cm = manager_.context().clusterManager();
  const std::string& cluster_name = route_->pickCluster(cm.rng()());
  cluster_ = cm.get(cluster_name);
  if (cluster_ == nullptr) {
    sendLocalReply(503, "unknown cluster '" + cluster_name + "'");
    return;
  }
  host_ = cluster_->pickHost(cm.rng());
  if (host_ < 0) {
    cluster_.reset();
    sendLocalReply(503, "no healthy upstream");
    return;
  }
  cluster_->onRequestStart(host_);
  stats::gaugeAdd(cluster_->stats().rq_active, 1);
  stats::inc(cluster_->stats().rq_total);
  rewriteRequest();
  if (route_->timeout_ms > 0) {
    timeout_ = std::make_unique<event::Timer>(manager_.context().dispatcher(),
                                              [this] { onRouteTimeout(); });
    timeout_->enableMs(route_->timeout_ms);
  }
  upstream_.start(cluster_->pool(host_));
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
  if (!request_headers_.has("x-forwarded-proto")) request_headers_.add("x-forwarded-proto", "http");
}

void ActiveStream::decodeData(std::string_view data, bool end_stream) {
  if (done_ || response_complete_) return;
  if (end_stream) request_complete_ = true;
  if (StreamEncoder* encoder = upstream_.encoder()) {
    encoder->encodeData(data, end_stream);
    return;
  }
  buffered_body_.append(data);
  if (buffered_body_.size() > kMaxBufferedRequestBody && !downstream_read_disabled_) {
    downstream_read_disabled_ = true;
    response_encoder_.readDisable(true);
  }
}

void ActiveStream::decodeTrailers(HeaderMap&& trailers) {
  if (done_ || response_complete_) return;
  request_complete_ = true;
  if (StreamEncoder* encoder = upstream_.encoder()) {
    encoder->encodeTrailers(trailers);
    return;
  }
  request_trailers_ = std::move(trailers);
  has_trailers_ = true;
}

void ActiveStream::onResetStream(StreamResetReason) {
  // The client went away: abandon the upstream side too.
  if (done_) return;
  response_complete_ = true;
  upstream_.cancel();
  finish();
}

void ActiveStream::onAboveWriteBufferHighWatermark() {
  // The client is slow to read the response: stop reading from upstream.
  if (StreamEncoder* encoder = upstream_.encoder()) {
    ++upstream_read_disabled_;
    encoder->readDisable(true);
  }
}

void ActiveStream::onBelowWriteBufferLowWatermark() {
  if (upstream_read_disabled_ > 0) {
    --upstream_read_disabled_;
    if (StreamEncoder* encoder = upstream_.encoder()) encoder->readDisable(false);
  }
}

void ActiveStream::onUpstreamReady(StreamEncoder& encoder) {
  bool end_with_headers = request_complete_ && buffered_body_.empty() && !has_trailers_;
  encoder.encodeHeaders(request_headers_, end_with_headers);
  if (!buffered_body_.empty() || (request_complete_ && !end_with_headers && !has_trailers_)) {
    std::string body;
    body.swap(buffered_body_);
    encoder.encodeData(body, request_complete_ && !has_trailers_);
  }
  if (has_trailers_) encoder.encodeTrailers(request_trailers_);
  if (downstream_read_disabled_) {
    downstream_read_disabled_ = false;
    response_encoder_.readDisable(false);
  }
}

void ActiveStream::onUpstreamFailure(upstream::PoolFailureReason reason) {
  if (reason == upstream::PoolFailureReason::kOverflow) {
    stats::inc(cluster_->stats().rq_overflow);
    sendLocalReply(503, "upstream overflow", true);
    return;
  }
  stats::inc(cluster_->stats().cx_connect_fail);
  sendLocalReply(503, std::string("upstream connect error or disconnect/reset before headers. "
                                  "reset reason: ") +
                          failureText(reason));
}

void ActiveStream::onUpstreamHeaders(HeaderMap&& headers, bool end_stream) {
  if (done_ || response_started_) return;
  response_started_ = true;
  response_code_ = headers.statusCode();
  bool tunnel_up = response_code_ == 101 ||
                   (request_headers_.method() == "CONNECT" && response_code_ / 100 == 2);
  if (tunnel_up && timeout_) timeout_->disable();
  routes_->responseMutation().apply(headers);
  route_->response_mutation.apply(headers);
  if (response_code_ >= 500) stats::inc(cluster_->stats().rq_5xx);
  if (end_stream) {
    response_complete_ = true;
    if (timeout_) timeout_->disable();
  }
  response_encoder_.encodeHeaders(headers, end_stream);
  if (end_stream) finishResponse(response_code_);
}

void ActiveStream::onUpstreamData(std::string_view data, bool end_stream) {
  if (done_) return;
  if (end_stream) {
    response_complete_ = true;
    if (timeout_) timeout_->disable();
  }
  response_encoder_.encodeData(data, end_stream);
  if (end_stream) finishResponse(response_code_);
}

void ActiveStream::onUpstreamTrailers(HeaderMap&& trailers) {
  if (done_) return;
  response_complete_ = true;
  if (timeout_) timeout_->disable();
  response_encoder_.encodeTrailers(trailers);
  finishResponse(response_code_);
}

void ActiveStream::onUpstreamReset(StreamResetReason reason) {
  if (done_) return;
  if (!response_started_) {
    sendLocalReply(503, std::string("upstream connect error or disconnect/reset before headers. "
                                    "reset reason: ") +
                            resetReasonName(reason));
    return;
  }
  // Mid-response: the client must see the failure, not a truncated success.
  response_complete_ = true;
  response_encoder_.resetStream(reason);
  finishResponse(response_code_);
}

void ActiveStream::onRouteTimeout() {
  if (done_) return;
  stats::inc(cluster_->stats().rq_timeout);
  upstream_.cancel();
  if (!response_started_) {
    sendLocalReply(504, "upstream request timeout");
  } else {
    response_complete_ = true;
    response_encoder_.resetStream(StreamResetReason::kLocalReset);
    finishResponse(response_code_);
  }
}

void ActiveStream::sendLocalReply(int code, std::string_view body, bool overflow) {
  if (done_) return;
  upstream_.cancel();
  if (timeout_) timeout_->disable();
  response_started_ = true;
  response_complete_ = true;
  HeaderMap headers;
  headers.add(":status", std::to_string(code));
  headers.add("content-type", "text/plain");
  std::string text = std::string(body) + "\n";
  headers.add("content-length", std::to_string(text.size()));
  if (overflow) headers.add("x-weft-overflow", "true");
  response_encoder_.encodeHeaders(headers, false);
  response_encoder_.encodeData(text, true);
  finishResponse(code);
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
  if (timeout_) timeout_->disable();
  // Undo flow-control holds this stream placed on shared connections.
  if (downstream_read_disabled_) {
    downstream_read_disabled_ = false;
    response_encoder_.readDisable(false);
  }
  while (upstream_read_disabled_ > 0) {
    --upstream_read_disabled_;
    if (StreamEncoder* encoder = upstream_.encoder()) encoder->readDisable(false);
  }
  manager_.onStreamDone(this);
}

}  // namespace weft::http
