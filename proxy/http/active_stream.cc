#include "proxy/http/active_stream.h"

#include "common/base/logging.h"
#include "proxy/http/connection_manager.h"
#include "proxy/http/edge_headers.h"
#include "proxy/http/filters/fault_filter.h"
#include "proxy/http/filters/rbac_filter.h"
#include "proxy/http/filters/xfcc.h"
#include "proxy/http/local_reply.h"
#include "proxy/http/request_id.h"
#include "proxy/workload/workload_metadata.h"

namespace weft::http {

ActiveStream::ActiveStream(ConnectionManager& manager, StreamEncoder& response_encoder)
    : manager_(manager),
      response_encoder_(response_encoder),
      telemetry_(manager.chain().direction, manager.connection().transportInfo()),
      start_ms_(manager.context().dispatcher().nowMs()),
      idle_timeout_ms_(manager.chain().http.stream_idle_timeout_ms),
      last_activity_ms_(start_ms_) {
  if (!manager.chain().http.access_logs.empty()) {
    start_time_us_ = access_log::wallClockNowUs();
  }
  if (manager.chain().http.request_timeout_ms > 0) {
    request_deadline_ms_ = start_ms_ + manager.chain().http.request_timeout_ms;
  }
}

// The router goes first: it still uses the request headers and the route.
ActiveStream::~ActiveStream() { router_.reset(); }

void ActiveStream::decodeHeaders(HeaderMap&& headers, bool end_stream) {
  request_headers_ = std::move(headers);
  if (end_stream) request_deadline_ms_ = 0;
  armDeadlineTimer();
  // Known before routing, so even "no route" answers a gRPC client in gRPC.
  grpc_ = isGrpcRequest(request_headers_);
  const auto& http = manager_.chain().http;
  // Before anything reads them (RBAC, route matches): what the edge may not claim.
  sanitizeAtEdge(request_headers_, http, manager_.connection().remoteAddress(),
                 manager_.connection().transportInfo() != nullptr);
  telemetry_.onRequestHeaders(request_headers_);
  ensureRequestId(request_headers_, manager_.context().clusterManager().rng());
  if (http.tracing) {
    // Before the route and the router: a route's header rules see the
    // context this hop passes on.
    tracer_.emplace(http.tracing, request_headers_,
                    manager_.chain().direction == config::TrafficDirection::kOutbound
                        ? tracing::SpanKind::kClient
                        : tracing::SpanKind::kServer,
                    manager_.context().clusterManager().rng(), access_log::wallClockNowUs());
  }
  if (manager_.rbac() && !authorize(*manager_.rbac())) return;
  routes_ = http.rds_name.empty() ? http.routes : manager_.context().currentRoutes(http.rds_name);
  route_ = routes_ ? routes_->route(request_headers_) : nullptr;
  if (route_ == nullptr) {
    sendLocalReply(404, "no route matched",
                   stream_info::flagBit(stream_info::ResponseFlag::kNoRoute));
    return;
  }
  if (route_->direct_status != 0) {
    sendLocalReply(static_cast<int>(route_->direct_status), route_->direct_body, 0);
    return;
  }
  if (route_->redirect) {
    sendRedirect();
    return;
  }
  router_ = std::make_unique<router::Router>(
      static_cast<router::RouterCallbacks&>(*this), manager_.context().dispatcher(),
      manager_.context().clusterManager(), routes_, *route_, request_headers_, end_stream, grpc_);
  router_->setDownstreamAddress(&manager_.connection().remoteAddress());
  if (manager_.chain().direction == config::TrafficDirection::kOutbound) {
    router_->setPeerMetadata(&manager_.context().istio().metrics().localHeader());
  }
  if (route_->idle_timeout_ms) {
    idle_timeout_ms_ = *route_->idle_timeout_ms;
    armDeadlineTimer();
  }
  if (const config::FaultConfig* fault = faultFor(*route_, http)) {
    if (rollFaultDelay(*fault, manager_.context().clusterManager().rng())) {
      response_flags_ |= stream_info::flagBit(stream_info::ResponseFlag::kDelayInjected);
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

bool ActiveStream::maybeInjectAbort(const config::FaultConfig& fault) {
  if (!rollFaultAbort(fault, manager_.context().clusterManager().rng())) return false;
  std::optional<int> grpc_status;
  if (fault.abort_grpc_status >= 0) {
    grpc_status = fault.abort_grpc_status;  // a gRPC abort answers gRPC even to non-gRPC clients
    grpc_ = true;
  }
  sendLocalReply(fault.abort_http_status, "fault filter abort",
                 stream_info::flagBit(stream_info::ResponseFlag::kFaultInjected), false,
                 grpc_status);
  return true;
}

void ActiveStream::continueToUpstream() {
  // Connection-level headers, before the route's own mutations (Envoy's
  // order: the connection manager's, then the router's).
  const network::TransportInfo* tls = manager_.connection().transportInfo();
  if (!request_headers_.has("x-forwarded-proto")) {
    request_headers_.add("x-forwarded-proto", tls != nullptr ? "https" : "http");
  }
  applyForwardedClientCert(request_headers_, manager_.chain().http, tls);
  router_->start();
}

bool ActiveStream::authorize(const rbac::RbacEngine& engine) {
  if (rbacAllows(engine, request_headers_, manager_.connection().transportInfo(),
                 manager_.stats())) {
    return true;
  }
  sendLocalReply(403, "RBAC: access denied",
                 stream_info::flagBit(stream_info::ResponseFlag::kUnauthorized));
  return false;
}

void ActiveStream::reauthorize() {
  // Not yet decided (headers still arriving) or already over: nothing to undo.
  if (done_ || request_headers_.method().empty()) return;
  const rbac::RbacEnginePtr& engine = manager_.rbac();
  if (!engine || rbacAllows(*engine, request_headers_, manager_.connection().transportInfo(),
                            manager_.stats())) {
    return;
  }
  uint32_t flag = stream_info::flagBit(stream_info::ResponseFlag::kUnauthorized);
  if (!response_started_) {
    sendLocalReply(403, "RBAC: access denied", flag);
    return;
  }
  // Answered already (a WebSocket, a streaming response): cut it, as a
  // connection the new rules refuse would have been.
  if (router_) router_->cancel();
  response_complete_ = true;
  response_flags_ |= flag;
  response_encoder_.resetStream(StreamResetReason::kLocalReset);
  finishResponse(response_code_);
}

void ActiveStream::decodeData(std::string_view data, bool end_stream) {
  if (done_ || response_complete_) return;
  touch();
  telemetry_.onRequestBody(data.size());
  if (end_stream) request_deadline_ms_ = 0;
  if (router_) router_->decodeData(data, end_stream);
}

void ActiveStream::decodeTrailers(HeaderMap&& trailers) {
  if (done_ || response_complete_) return;
  touch();
  request_deadline_ms_ = 0;
  if (router_) router_->decodeTrailers(std::move(trailers));
}

void ActiveStream::onResetStream(StreamResetReason) {
  // The client went away: abandon the upstream side too.
  if (done_) return;
  response_complete_ = true;
  response_flags_ |=
      stream_info::flagBit(stream_info::ResponseFlag::kDownstreamConnectionTermination);
  finish();
}

void ActiveStream::onAboveWriteBufferHighWatermark() {
  // The client is slow to read the response: stop reading from upstream.
  if (router_) router_->readDisableUpstream(true);
}

void ActiveStream::onBelowWriteBufferLowWatermark() {
  if (router_) router_->readDisableUpstream(false);
}

void ActiveStream::setRequestReadDisabled(bool disabled) {
  if (disabled == downstream_read_disabled_ || done_) return;
  downstream_read_disabled_ = disabled;
  response_encoder_.readDisable(disabled);
}

// ---- the response, from the router ----

void ActiveStream::onResponseHeaders(HeaderMap& headers, bool end_stream) {
  if (done_) return;
  response_started_ = true;
  response_code_ = headers.statusCode();
  telemetry_.onResponseHeaders(headers, manager_.context().istio().metrics().localHeader(),
                               router_ && router_->meshCluster());
  if (start_time_us_ != 0) logged_response_headers_ = std::make_unique<HeaderMap>(headers);
  if (end_stream) {
    response_complete_ = true;
    telemetry_.onGrpcStatus(headers);  // trailers-only
  }
  response_encoder_.encodeHeaders(headers, end_stream);
  if (end_stream) finishResponse(response_code_);
}

void ActiveStream::onResponseData(std::string_view data, bool end_stream) {
  if (done_) return;
  if (end_stream) response_complete_ = true;
  telemetry_.onResponseBody(data.size());
  response_encoder_.encodeData(data, end_stream);
  if (end_stream) finishResponse(response_code_);
}

void ActiveStream::onResponseTrailers(HeaderMap& trailers) {
  if (done_) return;
  response_complete_ = true;
  telemetry_.onGrpcStatus(trailers);
  if (start_time_us_ != 0) logged_response_trailers_ = std::make_unique<HeaderMap>(trailers);
  response_encoder_.encodeTrailers(trailers);
  finishResponse(response_code_);
}

void ActiveStream::onResponseReset(StreamResetReason reason, uint32_t flags) {
  if (done_) return;
  response_complete_ = true;
  response_flags_ |= flags;
  response_encoder_.resetStream(reason);
  finishResponse(response_code_);
}

void ActiveStream::onTunnelEstablished() {
  // A tunnel's bytes bypass the stream: the connection's own idle timeout governs it.
  idle_timeout_ms_ = 0;
  request_deadline_ms_ = 0;
  armDeadlineTimer();
}

// ---- the downstream deadlines ----

void ActiveStream::armDeadlineTimer() {
  uint64_t next = request_deadline_ms_;
  if (idle_timeout_ms_ > 0) {
    uint64_t idle = last_activity_ms_ + idle_timeout_ms_;
    if (next == 0 || idle < next) next = idle;
  }
  if (done_ || next == 0) {
    if (deadline_timer_) deadline_timer_->disable();
    return;
  }
  if (!deadline_timer_) {
    deadline_timer_ = std::make_unique<event::Timer>(manager_.context().dispatcher(),
                                                     [this] { onDeadlineTimer(); });
  }
  deadline_timer_->armBy(next);
}

void ActiveStream::onDeadlineTimer() {
  uint64_t now = manager_.context().dispatcher().nowMs();
  if (request_deadline_ms_ != 0 && now >= request_deadline_ms_) {
    request_deadline_ms_ = 0;
    onDownstreamTimeout("request timeout",
                        stream_info::flagBit(stream_info::ResponseFlag::kDownstreamRequestTimeout));
  } else if (idle_timeout_ms_ > 0 && now >= last_activity_ms_ + idle_timeout_ms_) {
    onDownstreamTimeout("stream idle timeout",
                        stream_info::flagBit(stream_info::ResponseFlag::kStreamIdleTimeout));
  } else {
    armDeadlineTimer();
  }
}

void ActiveStream::touch() { last_activity_ms_ = manager_.context().dispatcher().nowMs(); }

void ActiveStream::onDownstreamTimeout(const char* what, uint32_t flag) {
  if (done_) return;
  stats::inc(manager_.stats().rq_downstream_timeout);
  if (router_) router_->cancel();
  if (!response_started_) {
    sendLocalReply(408, what, flag);
    return;
  }
  response_complete_ = true;
  response_flags_ |= flag;
  response_encoder_.resetStream(StreamResetReason::kLocalReset);
  finishResponse(response_code_);
}

// ---- the end ----

void ActiveStream::sendLocalReply(int code, std::string_view body, uint32_t flags, bool overflow,
                                  std::optional<int> grpc_status) {
  if (done_) return;
  if (router_) router_->cancel();
  response_started_ = true;
  response_complete_ = true;
  response_flags_ |= flags;
  encodeLocalReply(response_encoder_, grpc_, code, body, grpc_status, overflow);
  if (grpc_) {
    telemetry_.setGrpcStatus(grpc_status ? *grpc_status : grpcStatusForHttp(code));
  } else {
    telemetry_.onResponseBody(body.size());
  }
  response_code_ = grpc_ ? 200 : code;
  finishResponse(response_code_);
}

void ActiveStream::sendRedirect() {
  HeaderMap headers;
  response_code_ = route_->redirect->status;
  headers.add(":status", std::to_string(response_code_));
  headers.add("location", route_->redirectLocation(request_headers_));
  headers.add("content-length", "0");
  routes_->responseMutation().apply(headers);
  route_->response_mutation.apply(headers);
  response_started_ = true;
  response_complete_ = true;
  if (start_time_us_ != 0) logged_response_headers_ = std::make_unique<HeaderMap>(headers);
  response_encoder_.encodeHeaders(headers, true);
  finishResponse(response_code_);
}

void ActiveStream::finishResponse(int code) {
  stats::countResponseCode(manager_.stats(), code);
  if (router_ && response_started_ && code != 0) {
    router_->recordRequestTime(manager_.context().dispatcher().nowMs() - start_ms_);
  }
  finish();
}

void ActiveStream::writeAccessLogs() {
  access_log::AccessLogRecord record;
  record.start_time_us = start_time_us_;
  record.request_headers = &request_headers_;
  record.response_headers = logged_response_headers_.get();
  record.response_trailers = logged_response_trailers_.get();
  record.protocol = manager_.protocolName();
  record.response_code = response_started_ ? response_code_ : 0;
  record.response_flags = response_flags_;
  record.bytes_received = telemetry_.requestBytes();
  record.bytes_sent = telemetry_.responseBytes();
  record.duration_ms = manager_.context().dispatcher().nowMs() - start_ms_;
  std::string upstream_host;
  if (router_ != nullptr) {
    if (const network::Address* host = router_->upstreamAddress()) {
      upstream_host = host->toString();
    }
    record.upstream_cluster = router_->clusterName();
  }
  record.upstream_host = upstream_host;
  record.downstream_remote = &manager_.connection().remoteAddress();
  record.downstream_local = &manager_.connection().localAddress();
  if (const network::TransportInfo* tls = manager_.connection().transportInfo()) {
    record.downstream_peer_uri_san = tls->peer_identity;
  }
  if (route_ != nullptr) record.route_name = route_->name;
  config::writeAccessLogs(manager_.chain().http.access_logs, record);
}

void ActiveStream::finishSpan() {
  tracing::SpanOutcome outcome;
  outcome.response_code = response_started_ ? response_code_ : 0;
  if (grpc_) outcome.grpc_status = telemetry_.grpcStatus();
  outcome.response_flags = stream_info::responseFlagsString(response_flags_);
  outcome.protocol = manager_.protocolName();
  std::string service;
  if (router_ != nullptr) {
    outcome.upstream_cluster = router_->clusterName();
    if (const network::Address* host = router_->upstreamAddress()) {
      outcome.upstream_address = host->toString();
    }
    service = std::string(router_->clusterService());
  }
  if (const network::TransportInfo* tls = manager_.connection().transportInfo()) {
    outcome.peer_principal = tls->peer_identity;
  }
  if (manager_.chain().direction == config::TrafficDirection::kOutbound &&
      !telemetry_.peerHeader().empty()) {
    workload::WorkloadMetadata callee;
    std::string error;
    if (workload::parsePeerMetadata(telemetry_.peerHeader(), &callee, nullptr, &error)) {
      outcome.upstream_principal = callee.principal;
    }
  }
  tracer_->finish(service, manager_.connection().remoteAddress().toString(), outcome,
                  access_log::wallClockNowUs());
}

void ActiveStream::finish() {
  if (done_) return;
  done_ = true;
  if (tracer_ && tracer_->sampled()) finishSpan();
  if (telemetry_.enabled()) {
    telemetry_.record(manager_.context().istio(), grpc_, response_started_ ? response_code_ : 0,
                      response_flags_, manager_.context().dispatcher().nowMs() - start_ms_,
                      router_ ? router_->clusterService() : std::string_view());
  }
  if (start_time_us_ != 0) writeAccessLogs();
  for (int i = 0; response_flags_ != 0 && i < stream_info::kResponseFlagCount; ++i) {
    if (response_flags_ & (1u << i))
      stats::countResponseFlag(manager_.stats(), stream_info::responseFlagName(i));
  }
  if (router_) router_->cancel();
  if (deadline_timer_) deadline_timer_->disable();
  if (fault_delay_) fault_delay_->disable();
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
