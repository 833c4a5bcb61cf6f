#pragma once

// One request/response exchange through the router: the downstream side is a
// StreamDecoder fed by the server codec; the upstream side (UpstreamRequest)
// is a StreamDecoder fed by the client codec of a pooled connection.

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

  void start(upstream::HttpConnPool& pool);
  // Abandons the upstream side (cancels a wait, or resets the stream).
  void cancel();
  StreamEncoder* encoder() { return encoder_; }

  // upstream::ConnPoolCallbacks
  void onPoolReady(StreamEncoder& encoder) override;
  void onPoolFailure(upstream::PoolFailureReason reason) override;

  // StreamDecoder: the response
  void decodeHeaders(HeaderMap&& headers, bool end_stream) override;
  void decodeData(std::string_view data, bool end_stream) override;
  void decodeTrailers(HeaderMap&& trailers) override;
  void onResetStream(StreamResetReason reason) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

 private:
  ActiveStream& parent_;
  upstream::HttpConnPool* pool_ = nullptr;
  upstream::HttpConnPool::PendingRequest* pending_ = nullptr;
  StreamEncoder* encoder_ = nullptr;
  bool complete_ = false;
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

  void onUpstreamReady(StreamEncoder& encoder);
  void onUpstreamFailure(upstream::PoolFailureReason reason);
  void onUpstreamHeaders(HeaderMap&& headers, bool end_stream);
  void onUpstreamData(std::string_view data, bool end_stream);
  void onUpstreamTrailers(HeaderMap&& trailers);
  void onUpstreamReset(StreamResetReason reason);
  void onRouteTimeout();

  void sendLocalReply(int code, std::string_view body, bool overflow = false);
  void finishResponse(int code);
  void finish();
  void rewriteRequest();

  ConnectionManager& manager_;
  StreamEncoder& response_encoder_;
  UpstreamRequest upstream_{*this};
  HeaderMap request_headers_;
  HeaderMap request_trailers_;
  std::shared_ptr<const router::RouteTable> routes_;  // held for the stream's life
  const router::RouteEntry* route_ = nullptr;
  std::shared_ptr<upstream::WorkerCluster> cluster_;
  int host_ = -1;
  std::string buffered_body_;  // request body that arrived before the upstream was ready
  bool request_complete_ = false;
  bool has_trailers_ = false;
  bool response_started_ = false;
  bool response_complete_ = false;
  bool done_ = false;
  bool downstream_read_disabled_ = false;
  int upstream_read_disabled_ = 0;
  int response_code_ = 0;
  uint64_t start_ms_ = 0;
  std::unique_ptr<event::Timer> timeout_;
};

}  // namespace weft::http
