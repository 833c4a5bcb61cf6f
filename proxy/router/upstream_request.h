#pragma once

// One attempt of a request on an upstream host: waits for a pooled
// connection, then is the response's decoder. It reports to the router
// through UpstreamRequestCallbacks and lets go of the codec's stream as soon
// as the response is complete (or on reset), so the codec may reuse or free
// it; a cancelled attempt reports nothing more.

#include "common/http/codec.h"
#include "proxy/upstream/conn_pool.h"

namespace weft::router {

class UpstreamRequest;

// The router's side of an attempt.
class UpstreamRequestCallbacks {
 public:
  virtual ~UpstreamRequestCallbacks() = default;
  virtual void onUpstreamReady(UpstreamRequest& attempt, http::StreamEncoder& encoder) = 0;
  virtual void onUpstreamFailure(UpstreamRequest& attempt, upstream::PoolFailureReason reason) = 0;
  virtual void onUpstreamHeaders(UpstreamRequest& attempt, http::HeaderMap&& headers,
                                 bool end_stream) = 0;
  virtual void onUpstreamData(UpstreamRequest& attempt, std::string_view data, bool end_stream) = 0;
  virtual void onUpstreamTrailers(UpstreamRequest& attempt, http::HeaderMap&& trailers) = 0;
  virtual void onUpstreamReset(UpstreamRequest& attempt, http::StreamResetReason reason) = 0;
  // The upstream connection is congested (true) / drained: pause / resume
  // reading the request body from the client.
  virtual void onUpstreamWatermark(bool above) = 0;
};

class UpstreamRequest : public http::StreamDecoder, public upstream::ConnPoolCallbacks {
 public:
  explicit UpstreamRequest(UpstreamRequestCallbacks& callbacks) : callbacks_(callbacks) {}

  // `host` outlives the attempt: the stream holds it.
  void start(upstream::ConnPool& pool, bool fresh_connection);
  // Abandons this attempt (cancels a wait, or resets the stream).
  void cancel();
  // The request's encoder while the attempt is live; nullptr once its
  // response is complete or it was reset (the codec may then reuse or free it).
  http::StreamEncoder* encoder() { return encoder_; }
  // Pauses / resumes reading the response (nested); undone when the
  // attempt ends, so a connection never goes back to its pool paused.
  void readDisable(bool disable);
  bool reusedConnection() const { return reused_; }
  bool responseStarted() const { return response_started_; }

  // upstream::ConnPoolCallbacks
  void onPoolReady(http::StreamEncoder& encoder, bool reused) override;
  void onPoolFailure(upstream::PoolFailureReason reason) override;

  // http::StreamDecoder: the response
  void decodeHeaders(http::HeaderMap&& headers, bool end_stream) override;
  void decodeData(std::string_view data, bool end_stream) override;
  void decodeTrailers(http::HeaderMap&& trailers) override;
  void onResetStream(http::StreamResetReason reason) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

 private:
  // The response is complete: let go of the codec's stream.
  void onComplete();

  UpstreamRequestCallbacks& callbacks_;
  upstream::ConnPool* pool_ = nullptr;
  upstream::ConnPool::Pending* pending_ = nullptr;
  http::StreamEncoder* encoder_ = nullptr;
  bool complete_ = false;
  bool reused_ = false;
  bool response_started_ = false;
  bool cancelled_ = false;
  int read_disabled_ = 0;
};

}  // namespace weft::router
