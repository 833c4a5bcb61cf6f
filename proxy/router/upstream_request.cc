#include "proxy/router/upstream_request.h"

namespace weft::router {

void UpstreamRequest::start(upstream::ConnPool& pool, bool fresh_connection) {
  pool_ = &pool;
  pending_ = pool.newStream(*this, *this, fresh_connection);
}

void UpstreamRequest::cancel() {
  cancelled_ = true;
  if (pending_ != nullptr) {
    pool_->cancel(pending_);
    pending_ = nullptr;
  }
  if (encoder_ != nullptr) {
    http::StreamEncoder* e = encoder_;
    encoder_ = nullptr;
    e->resetStream(http::StreamResetReason::kLocalReset);
  }
}

void UpstreamRequest::readDisable(bool disable) {
  if (encoder_ == nullptr) return;
  if (disable) {
    ++read_disabled_;
  } else if (read_disabled_ > 0) {
    --read_disabled_;
  } else {
    return;
  }
  encoder_->readDisable(disable);
}

void UpstreamRequest::onComplete() {
  complete_ = true;
  if (encoder_ == nullptr) return;
  http::StreamEncoder* e = encoder_;
  encoder_ = nullptr;
  for (; read_disabled_ > 0; --read_disabled_) e->readDisable(false);
  // A request body still being sent is abandoned: the upstream has answered.
  e->releaseDecoder(*this);
}

void UpstreamRequest::onPoolReady(http::StreamEncoder& encoder, bool reused) {
  pending_ = nullptr;
  encoder_ = &encoder;
  reused_ = reused;
  callbacks_.onUpstreamReady(*this, encoder);
}

void UpstreamRequest::onPoolFailure(upstream::PoolFailureReason reason) {
  pending_ = nullptr;
  callbacks_.onUpstreamFailure(*this, reason);
}

void UpstreamRequest::decodeHeaders(http::HeaderMap&& headers, bool end_stream) {
  if (cancelled_) return;
  response_started_ = true;
  if (end_stream) onComplete();
  callbacks_.onUpstreamHeaders(*this, std::move(headers), end_stream);
}

void UpstreamRequest::decodeData(std::string_view data, bool end_stream) {
  if (cancelled_) return;
  if (end_stream) onComplete();
  callbacks_.onUpstreamData(*this, data, end_stream);
}

void UpstreamRequest::decodeTrailers(http::HeaderMap&& trailers) {
  if (cancelled_) return;
  onComplete();
  callbacks_.onUpstreamTrailers(*this, std::move(trailers));
}

void UpstreamRequest::onResetStream(http::StreamResetReason reason) {
  encoder_ = nullptr;
  if (cancelled_) return;
  callbacks_.onUpstreamReset(*this, reason);
}

void UpstreamRequest::onAboveWriteBufferHighWatermark() {
  // The upstream connection is congested: stop reading the request body.
  if (!cancelled_) callbacks_.onUpstreamWatermark(true);
}

void UpstreamRequest::onBelowWriteBufferLowWatermark() {
  if (!cancelled_) callbacks_.onUpstreamWatermark(false);
}

}  // namespace weft::router
