#include "proxy/tcp/tcp_proxy.h"

#include "common/base/logging.h"
#include "common/network/tcp_connection.h"
#include "common/tls/tls_socket.h"
#include "proxy/stream_info/response_flags.h"
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
  if (!initial_data.empty()) upstream_->write(initial_data);
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
  if (downstream_ && parent_.rbac_) {
    if (!data.empty()) parent_.authorizeThenConnect(data);
    if (end_stream || parent_.closed_) {
      if (!parent_.closed_) parent_.closeBoth();
      return;
    }
    return;
  }
  network::Connection& peer = parent_.peerOf(downstream_);
  if (!data.empty()) {
    (downstream_ ? parent_.bytes_received_ : parent_.bytes_sent_) += data.size();
    if (const stats::IstioTcpSeries* series = parent_.istioSeries()) {
      stats::inc(downstream_ ? series->received : series->sent, static_cast<double>(data.size()));
    } else if (!parent_.istio_opened_) {
      (downstream_ ? parent_.pending_received_ : parent_.pending_sent_) += data.size();
    }
    peer.write(data);
  }
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
    return;
  }
  parent_.closeBoth();
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
  return labels;
}

const stats::IstioTcpSeries* TcpProxy::istioSeries() {
  if (istio_opened_ || direction_ == config::TrafficDirection::kUnspecified) return istio_;
  if (downstream_tls_ && downstream_->transportInfo() == nullptr && !closed_) {
    return nullptr;  // who the caller is is not known yet
  }
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
