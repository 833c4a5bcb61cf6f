#include "proxy/router/shadow_request.h"

#include "proxy/workload/workload_metadata.h"

namespace weft::router {

namespace {
// A shadow never slows the client: a mirror that cannot keep up with the
// original's body past this many buffered bytes is given up.
constexpr size_t kMaxShadowBody = 1024 * 1024;
// Envoy's default route timeout, for a route that has none (0).
constexpr uint64_t kDefaultShadowTimeoutMs = 15000;

// "host:port" -> "host-shadow:port" (Envoy's mark of a mirrored request).
std::string shadowAuthority(std::string_view authority) {
  size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos || authority.find(']', colon) != std::string_view::npos) {
    return std::string(authority) + "-shadow";
  }
  return std::string(authority.substr(0, colon)) + "-shadow" + std::string(authority.substr(colon));
}
}  // namespace

std::shared_ptr<ShadowRequest> ShadowRequest::start(
    event::Dispatcher& dispatcher, upstream::ClusterManager& cm, const std::string& cluster,
    const http::HeaderMap& request, const std::string* peer_metadata, std::string_view body,
    bool end_stream, uint64_t timeout_ms) {
  auto shadow = std::make_shared<ShadowRequest>(dispatcher, cm);
  shadow->cluster_ = cm.get(cluster);
  if (shadow->cluster_ == nullptr || shadow->cluster_->removed()) return nullptr;
  const auto& stats = shadow->cluster_->stats();
  shadow->resources_ = shadow->cluster_->resources();
  if (shadow->resources_->active_requests.load(std::memory_order_relaxed) >=
      shadow->cluster_->config().max_requests) {
    stats::inc(stats.rq_max_requests_overflow);
    return nullptr;
  }
  shadow->host_ = shadow->cluster_->pickHost(cm.rng());
  if (shadow->host_ == nullptr) return nullptr;
  shadow->resources_->active_requests.fetch_add(1, std::memory_order_relaxed);
  stats::gaugeAdd(stats.rq_active, 1);
  stats::inc(stats.rq_total);
  shadow->cluster_->onRequestStart(*shadow->host_);

  shadow->headers_ = request;
  shadow->headers_.set(":authority", shadowAuthority(request.authority()));
  const auto& config = shadow->cluster_->config();
  if (peer_metadata != nullptr && !peer_metadata->empty() && config.tls != nullptr) {
    shadow->headers_.set(
        workload::kPeerMetadataHeader,
        config.service.empty() ? *peer_metadata : *peer_metadata + ",s=" + config.service);
  }
  shadow->body_ = std::string(body);
  shadow->request_complete_ = end_stream;
  ShadowRequest* raw = shadow.get();
  shadow->timeout_ = std::make_unique<event::Timer>(dispatcher, [raw] { raw->finish(); });
  shadow->timeout_->enableMs(timeout_ms == 0 ? kDefaultShadowTimeoutMs : timeout_ms);
  cm.keepDetached(shadow);
  shadow->upstream_ =
      std::make_unique<UpstreamRequest>(static_cast<UpstreamRequestCallbacks&>(*raw));
  shadow->upstream_->start(shadow->host_->pool(), false);
  return shadow;
}

ShadowRequest::ShadowRequest(event::Dispatcher& dispatcher, upstream::ClusterManager& cm)
    : dispatcher_(dispatcher), cm_(cm) {}

ShadowRequest::~ShadowRequest() {
  // Destroyed with the worker while still running: undo what start() counted.
  if (!finished_) {
    finished_ = true;
    if (upstream_) upstream_->cancel();
    if (host_ != nullptr) {
      cluster_->onRequestEnd(*host_);
      resources_->active_requests.fetch_sub(1, std::memory_order_relaxed);
      stats::gaugeAdd(cluster_->stats().rq_active, -1);
    }
  }
}

void ShadowRequest::decodeData(std::string_view data, bool end_stream) {
  if (finished_) return;
  body_.append(data);
  if (end_stream) request_complete_ = true;
  if (body_.size() > kMaxShadowBody) {
    finish();
    return;
  }
  flush();
}

void ShadowRequest::decodeTrailers(const http::HeaderMap& trailers) {
  if (finished_) return;
  trailers_ = trailers;
  has_trailers_ = true;
  request_complete_ = true;
  flush();
}

void ShadowRequest::flush() {
  http::StreamEncoder* encoder = upstream_ ? upstream_->encoder() : nullptr;
  if (encoder == nullptr) return;
  bool end = request_complete_ && !has_trailers_;
  if (!body_.empty() || end) {
    encoder->encodeData(body_, end);
    body_.clear();
  }
  if (request_complete_ && has_trailers_) {
    encoder->encodeTrailers(trailers_);
    has_trailers_ = false;
  }
}

void ShadowRequest::onUpstreamReady(UpstreamRequest&, http::StreamEncoder& encoder) {
  if (finished_) return;
  bool end_with_headers = request_complete_ && body_.empty() && !has_trailers_;
  encoder.encodeHeaders(headers_, end_with_headers);
  if (!end_with_headers) flush();
}

void ShadowRequest::onUpstreamFailure(UpstreamRequest&, upstream::PoolFailureReason reason) {
  if (reason != upstream::PoolFailureReason::kOverflow) {
    stats::inc(cluster_->stats().cx_connect_fail);
    cluster_->reportResult(*host_, upstream::WorkerCluster::Result::kGatewayFailure);
  } else {
    stats::inc(cluster_->stats().rq_overflow);
  }
  finish();
}

void ShadowRequest::onUpstreamHeaders(UpstreamRequest&, http::HeaderMap&& headers,
                                      bool end_stream) {
  using Result = upstream::WorkerCluster::Result;
  int code = headers.statusCode();
  cluster_->reportResult(*host_, code >= 502 && code <= 504 ? Result::kGatewayFailure
                                 : code >= 500              ? Result::k5xx
                                                            : Result::kSuccess);
  if (code >= 500) stats::inc(cluster_->stats().rq_5xx);
  if (end_stream) finish();
}

void ShadowRequest::onUpstreamData(UpstreamRequest&, std::string_view, bool end_stream) {
  if (end_stream) finish();
}

void ShadowRequest::onUpstreamTrailers(UpstreamRequest&, http::HeaderMap&&) { finish(); }

void ShadowRequest::onUpstreamReset(UpstreamRequest&, http::StreamResetReason) { finish(); }

void ShadowRequest::finish() {
  if (finished_) return;
  finished_ = true;
  if (timeout_) timeout_->disable();
  if (upstream_) {
    upstream_->cancel();
    dispatcher_.deferDelete(std::move(upstream_));
  }
  cluster_->onRequestEnd(*host_);
  resources_->active_requests.fetch_sub(1, std::memory_order_relaxed);
  stats::gaugeAdd(cluster_->stats().rq_active, -1);
  cm_.releaseDetached(this);
}

}  // namespace weft::router
