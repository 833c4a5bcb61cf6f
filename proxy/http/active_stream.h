#pragma once

// One request/response exchange on a downstream connection (Envoy's
// ActiveStream of the connection manager): the StreamDecoder the server
// codec feeds. It runs the request through the edge sanitation, the RBAC
// filter, the route match and the fault filter, then hands it to a Router
// (cluster, breakers, attempts, retries); it owns the downstream side: the
// request and idle timeouts, flow control towards the client, the one local-
// reply path (gRPC-shaped for gRPC requests) and the response flags every
// stream records.

#include <memory>
#include <optional>
#include <string>

#include "common/event/dispatcher.h"
#include "common/http/codec.h"
#include "proxy/config/route_table.h"
#include "proxy/http/stream_telemetry.h"
#include "proxy/router/router.h"
#include "proxy/stream_info/response_flags.h"
#include "proxy/tracing/stream_tracer.h"

namespace weft::http {

class ConnectionManager;

class ActiveStream : public StreamDecoder, private router::RouterCallbacks {
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

  // The connection took on new RBAC rules: a stream they deny ends now (403
  // if unanswered, else reset).
  void reauthorize();

 private:
  // router::RouterCallbacks
  void onResponseHeaders(HeaderMap& headers, bool end_stream) override;
  void onResponseData(std::string_view data, bool end_stream) override;
  void onResponseTrailers(HeaderMap& trailers) override;
  void onLocalReply(int code, std::string_view body, uint32_t flags, bool overflow,
                    std::optional<int> grpc_status) override {
    sendLocalReply(code, body, flags, overflow, grpc_status);
  }
  void onResponseReset(StreamResetReason reason, uint32_t flags) override;
  void onTunnelEstablished() override;
  void setRequestReadDisabled(bool disabled) override;
  void addResponseFlags(uint32_t flags) override { response_flags_ |= flags; }
  void onActivity() override { touch(); }

  // After routing (and any injected delay): the connection-level request
  // headers, then the router.
  void continueToUpstream();
  // An injected abort, rolled against the fault's percentage; true if sent.
  bool maybeInjectAbort(const config::FaultConfig& fault);
  bool authorize(const rbac::RbacEngine& engine);
  // The connection manager's request_timeout and stream_idle_timeout: 408
  // before the response starts, a reset after.
  void onDownstreamTimeout(const char* what, uint32_t flag);
  // Activity either way pushes the idle deadline; the timer is re-armed
  // lazily when it fires, so busy streams cost no timer updates.
  void touch();
  // One timer serves the request deadline and the idle timeout.
  void armDeadlineTimer();
  void onDeadlineTimer();

  // A response made here: gRPC-shaped for gRPC requests (grpc_status, or
  // the HTTP-to-gRPC mapping), with `flags` recorded on the stream.
  void sendLocalReply(int code, std::string_view body, uint32_t flags, bool overflow = false,
                      std::optional<int> grpc_status = std::nullopt);
  void finishResponse(int code);
  // The route is a redirect: answers with its Location, no upstream.
  void sendRedirect();
  void finish();
  // One line per configured access log, for the stream that just ended.
  void writeAccessLogs();
  void finishSpan();

  ConnectionManager& manager_;
  StreamEncoder& response_encoder_;
  HeaderMap request_headers_;  // the router rewrites them, so it is declared after
  std::shared_ptr<const config::RouteTable> routes_;  // held for the stream's life
  const config::RouteEntry* route_ = nullptr;
  std::unique_ptr<router::Router> router_;
  bool response_started_ = false;
  bool response_complete_ = false;
  bool done_ = false;
  bool downstream_read_disabled_ = false;
  StreamTelemetry telemetry_;                    // Istio's metrics of this stream
  std::optional<tracing::StreamTracer> tracer_;  // when the connection manager traces
  // Kept only when access logs are configured: %START_TIME%, %RESP(...)%, %TRAILER(...)%.
  int64_t start_time_us_ = 0;
  std::unique_ptr<HeaderMap> logged_response_headers_;
  std::unique_ptr<HeaderMap> logged_response_trailers_;
  int response_code_ = 0;
  uint64_t start_ms_ = 0;
  bool grpc_ = false;                 // content-type application/grpc*
  uint32_t response_flags_ = 0;       // ResponseFlag bits: why it ended as it did
  uint64_t request_deadline_ms_ = 0;  // absolute (loop clock): the whole request received by then
  uint64_t idle_timeout_ms_ = 0;
  uint64_t last_activity_ms_ = 0;
  std::unique_ptr<event::Timer> deadline_timer_;
  std::unique_ptr<event::Timer> fault_delay_;
};

}  // namespace weft::http
