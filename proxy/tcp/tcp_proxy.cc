#include "proxy/tcp/tcp_proxy.h"

#include "common/base/logging.h"
#include "common/network/tcp_connection.h"
#include "common/tls/tls_socket.h"
#include "mesh/names.h"
#include "proxy/stream_info/response_flags.h"
#include "proxy/workload/peer_exchange.h"
#include "proxy/workload/workload_metadata.h"

namespace weft::tcp {

TcpProxy::TcpProxy(context::WorkerContext& context, const std::string& cluster_name,
                   std::unique_ptr<network::Connection> downstream, stats::ListenerStats stats,
                   uint32_t buffer_limit, uint64_t idle_timeout_ms,
                   config::TrafficDirection direction,
                   const std::vector<config::AccessLogConfig>* access_logs, bool downstream_tls)
    : idle_timeout_ms_(idle_timeout_ms),
      context_(context),
      cluster_name_(cluster_name),
      buffer_limit_(buffer_limit),
      downstream_(std::move(downstream)),
      stats_(stats),
      direction_(direction),
      downstream_tls_(downstream_tls),
      access_logs_(access_logs != nullptr ? *access_logs : std::vector<config::AccessLogConfig>()) {
  if (!access_logs_.empty()) {
    start_time_us_ = access_log::wallClockNowUs();
    start_ms_ = context_.dispatcher().nowMs();
  }
  stats::inc(stats_.cx_total);
  stats::gaugeAdd(stats_.cx_active, 1);
  downstream_->setCallbacks(&downstream_side_);
  downstream_->enableHalfClose(true);
  downstream_->setBufferLimit(buffer_limit);
  if (downstream_tls_ && direction_ == config::TrafficDirection::kInbound) {
    // The app's bytes wait until the handshake says whether a peer frame
    // goes ahead of them.
    hold_to_downstream_ = true;
    if (downstream_->transportInfo() != nullptr) onExchangeDecided(true);
  }
  if (idle_timeout_ms_ > 0) {
    last_activity_ms_ = context_.dispatcher().nowMs();
    idle_timer_ = std::make_unique<event::Timer>(context_.dispatcher(), [this] { onIdleTimer(); });
    idle_timer_->enableMs(idle_timeout_ms_);
  }
}

void TcpProxy::onIdleTimer() {
  if (closed_) return;
  uint64_t idle = context_.dispatcher().nowMs() - last_activity_ms_;
  if (idle < idle_timeout_ms_) {
    idle_timer_->enableMs(idle_timeout_ms_ - idle);
    return;
  }
  stats::inc(stats_.rq_downstream_timeout);
  LOG_DEBUG("tcp_proxy: idle for %llu ms; closing", static_cast<unsigned long long>(idle));
  closeBoth();
}

void TcpProxy::start(std::string_view initial_data) {
  if (rbac_) {
    // Envoy's ONE_TIME_ON_FIRST_BYTE: the decision waits for the client's
    // first bytes (after the TLS handshake said who it is), and nothing
    // reaches the upstream before it.
    downstream_->startReading();
    if (!initial_data.empty()) authorizeThenConnect(initial_data);
    return;
  }
  connectUpstream(initial_data);
}

void TcpProxy::authorizeThenConnect(std::string_view first_bytes) {
  const network::TransportInfo* tls = downstream_->transportInfo();
  rbac::RequestContext request;
  if (tls != nullptr && tls->peer_certificate) {
    request.authenticated = true;
    request.peer_identity = tls->peer_identity;
  }
  std::string policy;
  bool allowed = rbac_->allowed(request, &policy);
  rbac_ = nullptr;  // decided once
  if (!allowed) {
    stats::inc(stats_.rbac_denied);
    LOG_DEBUG("rbac: denied a connection from '%s'",
              tls != nullptr ? tls->peer_identity.c_str() : "");
    closeBoth();
    return;
  }
  stats::inc(stats_.rbac_allowed);
  connectUpstream(first_bytes);
}

void TcpProxy::connectUpstream(std::string_view initial_data) {
  auto cluster = context_.clusterManager().get(cluster_name_);
  bool original_dst = cluster && cluster->config().original_dst;
  upstream::WorkerHostPtr host =
      cluster && !original_dst ? cluster->pickHost(context_.clusterManager().rng()) : nullptr;
  // A client that dialled the passthrough listener itself has nowhere to go
  // (connecting to our own address would loop).
  if ((host == nullptr && !original_dst) || (original_dst && !downstream_->redirected())) {
    LOG_DEBUG("tcp_proxy: no host for cluster %s", cluster_name_.c_str());
    response_flags_ |= stream_info::flagBit(cluster ? stream_info::ResponseFlag::kNoHealthyUpstream
                                                    : stream_info::ResponseFlag::kNoClusterFound);
    closeBoth();
    return;
  }
  // A passthrough goes where the client meant to (the restored destination).
  const network::Address& target = original_dst ? downstream_->localAddress() : host->address();
  host_ = host;
  upstream_ = network::TcpConnection::connectTo(context_.dispatcher(), target);
  if (cluster->config().tls) {
    upstream_->setTransportSocket(std::make_unique<tls::TlsSocket>(
        cluster->config().tls, &context_.clusterManager().tlsStats()));
  }
  upstream_->setCallbacks(&upstream_side_);
  upstream_->enableHalfClose(true);
  upstream_->setBufferLimit(buffer_limit_);
  const auto& tls = cluster->config().tls;
  if (tls && direction_ == config::TrafficDirection::kOutbound) {
    for (const auto& protocol : tls->config().alpn) {
      if (protocol == mesh::kPeerExchangeAlpn) hold_to_upstream_ = true;
    }
  }
  if (!initial_data.empty()) forward(true, initial_data);
  // Server-speaks-first protocols work: nothing waits for client bytes.
  downstream_->startReading();
}

TcpProxy::~TcpProxy() {
  if (downstream_) downstream_->setCallbacks(nullptr);
  if (upstream_) upstream_->setCallbacks(nullptr);
}

void TcpProxy::Side::onData(std::string_view data, bool end_stream) {
  if (parent_.closed_) return;
  if (parent_.idle_timer_) parent_.last_activity_ms_ = parent_.context_.dispatcher().nowMs();
  std::string rest;
  if (parent_.frame_from_ == (downstream_ ? FrameFrom::kDownstream : FrameFrom::kUpstream)) {
    if (!parent_.takeFrame(downstream_, data, &rest)) return;
    data = rest;
    if (data.empty() && !end_stream) return;
  }
  if (downstream_ && parent_.rbac_) {
    if (!data.empty()) parent_.authorizeThenConnect(data);
    if (end_stream || parent_.closed_) {
      if (!parent_.closed_) parent_.closeBoth();
      return;
    }
    return;
  }
  network::Connection& peer = parent_.peerOf(downstream_);
  if (!data.empty()) parent_.forward(downstream_, data);
  if (end_stream) {
    (downstream_ ? parent_.downstream_eof_ : parent_.upstream_eof_) = true;
    peer.shutdownWrite();
    if (parent_.downstream_eof_ && parent_.upstream_eof_) parent_.closeBoth();
  }
}

void TcpProxy::Side::onEvent(network::ConnectionEvent event) {
  if (parent_.closed_) {
    parent_.maybeRemove();
    return;
  }
  if (event == network::ConnectionEvent::kConnected) {
    parent_.upstream_connected_ = true;
    if (parent_.hold_to_upstream_) parent_.onExchangeDecided(false);
    return;
  }
  parent_.closeBoth();
}

void TcpProxy::Side::onServerHandshakeComplete() {
  if (downstream_ && !parent_.closed_ && parent_.hold_to_downstream_ &&
      parent_.frame_from_ == FrameFrom::kNone) {
    parent_.onExchangeDecided(true);
  }
}

void TcpProxy::forward(bool from_downstream, std::string_view data) {
  bool held = from_downstream ? hold_to_upstream_ : hold_to_downstream_;
  if (held) {
    std::string& buffer = from_downstream ? to_upstream_ : to_downstream_;
    buffer.append(data);
    // A peer that never finishes the exchange holds at most a buffer's worth.
    bool& paused = from_downstream ? paused_downstream_ : paused_upstream_;
    network::Connection* source = from_downstream ? downstream_.get() : upstream_.get();
    if (buffer.size() > buffer_limit_ && !paused && source != nullptr) {
      source->readDisable(true);
      paused = true;
    }
    return;
  }
  (from_downstream ? bytes_received_ : bytes_sent_) += data.size();
  if (const stats::IstioTcpSeries* series = istioSeries()) {
    stats::inc(from_downstream ? series->received : series->sent, static_cast<double>(data.size()));
  } else if (!istio_opened_) {
    (from_downstream ? pending_received_ : pending_sent_) += data.size();
  }
  peerOf(from_downstream).write(data);
}

void TcpProxy::onExchangeDecided(bool from_downstream_handshake) {
  network::Connection& connection = from_downstream_handshake ? *downstream_ : *upstream_;
  const network::TransportInfo* tls = connection.transportInfo();
  bool exchange = tls != nullptr && tls->alpn == mesh::kPeerExchangeAlpn;
  if (!from_downstream_handshake) {
    // Client sidecar: our frame first (with the Service we called), then the
    // app's bytes; the server's frame comes back ahead of its app's.
    if (exchange) {
      upstream_->write(workload::encodePeerFrame(workload::encodePeerMetadata(
          context_.istio().metrics().local(), workload::serviceOfCluster(cluster_name_))));
      frame_from_ = FrameFrom::kUpstream;
    }
    releaseHeld(true);
    return;
  }
  // Server sidecar: the client's frame first; ours answers it.
  if (exchange) {
    frame_from_ = FrameFrom::kDownstream;
  } else {
    releaseHeld(false);
  }
}

bool TcpProxy::takeFrame(bool from_downstream, std::string_view data, std::string* rest) {
  frame_buffer_.append(data);
  std::string metadata;
  switch (workload::takePeerFrame(frame_buffer_, &metadata)) {
    case workload::PeerFrame::kIncomplete:
      return true;
    case workload::PeerFrame::kInvalid:
      LOG_DEBUG("tcp_proxy: the peer negotiated %s but sent no metadata frame; closing",
                mesh::kPeerExchangeAlpn);
      closeBoth();
      return false;
    case workload::PeerFrame::kComplete:
      break;
  }
  peer_header_ = std::move(metadata);
  frame_from_ = FrameFrom::kNone;
  rest->swap(frame_buffer_);
  frame_buffer_.clear();
  if (from_downstream) {
    downstream_->write(workload::encodePeerFrame(context_.istio().metrics().localHeader()));
    releaseHeld(false);
  }
  return true;
}

void TcpProxy::releaseHeld(bool to_upstream) {
  (to_upstream ? hold_to_upstream_ : hold_to_downstream_) = false;
  std::string held;
  held.swap(to_upstream ? to_upstream_ : to_downstream_);
  if (!held.empty()) forward(to_upstream, held);  // from the downstream side when to upstream
  bool& paused = to_upstream ? paused_downstream_ : paused_upstream_;
  network::Connection* source = to_upstream ? downstream_.get() : upstream_.get();
  if (paused && source != nullptr && !closed_) {
    paused = false;
    source->readDisable(false);
  }
}

void TcpProxy::Side::onAboveWriteBufferHighWatermark() {
  // This side cannot drain: stop reading from the other.
  if (!parent_.closed_) parent_.peerOf(downstream_).readDisable(true);
}

void TcpProxy::Side::onBelowWriteBufferLowWatermark() {
  if (!parent_.closed_) parent_.peerOf(downstream_).readDisable(false);
}

void TcpProxy::closeBoth() {
  if (closed_) return;
  closed_ = true;
  if (idle_timer_) idle_timer_->disable();
  if (upstream_ && !upstream_connected_) {
    response_flags_ |= stream_info::flagBit(stream_info::ResponseFlag::kUpstreamConnectionFailure);
  }
  if (direction_ != config::TrafficDirection::kUnspecified) {
    istioSeries();
    context_.istio().closeConnection(istioLabels(response_flags_));
  }
  if (!access_logs_.empty()) writeAccessLogs();
  stats::gaugeAdd(stats_.cx_active, -1);
  downstream_->close(network::CloseType::kFlushWrite);
  if (upstream_) upstream_->close(network::CloseType::kFlushWrite);
  maybeRemove();
}

stats::IstioConnection TcpProxy::istioLabels(uint32_t response_flags) const {
  stats::IstioConnection labels;
  labels.response_flags = response_flags;
  if (direction_ == config::TrafficDirection::kInbound) {
    labels.reporter = stats::Reporter::kDestination;
    const network::TransportInfo* tls = downstream_->transportInfo();
    labels.mutual_tls = tls != nullptr && tls->peer_certificate;
    if (labels.mutual_tls) labels.peer_principal = tls->peer_identity;
  } else {
    labels.reporter = stats::Reporter::kSource;
    labels.service = workload::serviceOfCluster(cluster_name_);
  }
  labels.peer_header = peer_header_;
  return labels;
}

const stats::IstioTcpSeries* TcpProxy::istioSeries() {
  if (istio_opened_ || direction_ == config::TrafficDirection::kUnspecified) return istio_;
  if (downstream_tls_ && downstream_->transportInfo() == nullptr && !closed_) {
    return nullptr;  // who the caller is is not known yet
  }
  if (exchangeUnsettled() && !closed_) return nullptr;  // nor the peer's workload
  istio_opened_ = true;
  istio_ = context_.istio().openConnection(istioLabels(0));
  if (istio_ != nullptr) {
    if (pending_received_ > 0) stats::inc(istio_->received, static_cast<double>(pending_received_));
    if (pending_sent_ > 0) stats::inc(istio_->sent, static_cast<double>(pending_sent_));
  }
  return istio_;
}

void TcpProxy::writeAccessLogs() {
  access_log::AccessLogRecord record;
  record.start_time_us = start_time_us_;
  record.response_flags = response_flags_;
  record.bytes_received = bytes_received_;
  record.bytes_sent = bytes_sent_;
  record.duration_ms = context_.dispatcher().nowMs() - start_ms_;
  std::string upstream_host;
  if (host_ != nullptr) {
    upstream_host = host_->address().toString();
  } else if (upstream_ != nullptr) {
    upstream_host = downstream_->localAddress().toString();  // a passthrough's restored destination
  }
  record.upstream_host = upstream_host;
  record.upstream_cluster = cluster_name_;
  record.downstream_remote = &downstream_->remoteAddress();
  record.downstream_local = &downstream_->localAddress();
  if (const network::TransportInfo* tls = downstream_->transportInfo()) {
    record.downstream_peer_uri_san = tls->peer_identity;
  }
  config::writeAccessLogs(access_logs_, record);
}

void TcpProxy::maybeRemove() {
  if (removed_ || !downstream_->closed() || (upstream_ && !upstream_->closed())) return;
  removed_ = true;
  context_.removeConnection(this);
}

}  // namespace weft::tcp
