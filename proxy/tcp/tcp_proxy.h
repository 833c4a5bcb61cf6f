#pragma once

// Opaque TCP proxying: bytes both ways, half-close propagated, each side's
// reading paused while the other side's write buffer is over its limit, and
// both closed after the idle timeout with no bytes either way. Between two
// sidecars whose TLS handshake negotiated mesh::kPeerExchangeAlpn, the
// workloads' metadata frames (proxy/workload/peer_exchange.h) go ahead of the
// apps' bytes and are taken off again, so Istio's TCP metrics carry both
// workloads' labels at both reporters.

#include <memory>

#include "common/event/dispatcher.h"
#include "common/network/connection.h"
#include "proxy/context/worker_context.h"
#include "proxy/rbac/rbac_engine.h"

namespace weft::tcp {

class TcpProxy : public context::ActiveConnection {
 public:
  TcpProxy(context::WorkerContext& context, const std::string& cluster,
           std::unique_ptr<network::Connection> downstream, stats::ListenerStats stats,
           uint32_t buffer_limit, uint64_t idle_timeout_ms,
           config::TrafficDirection direction = config::TrafficDirection::kUnspecified,
           const std::vector<config::AccessLogConfig>* access_logs = nullptr,
           bool downstream_tls = false);
  ~TcpProxy() override;

  // Connects upstream; `initial_data` (bytes read while inspecting the
  // protocol) goes first. Call once the worker owns this object.
  void start(std::string_view initial_data);

  void startDrain() override {}  // opaque streams end when their peers end them
  // envoy.filters.network.rbac ahead of the proxy (before start()).
  void setRbac(rbac::RbacEnginePtr rbac) { rbac_ = std::move(rbac); }

 private:
  class Side : public network::ConnectionCallbacks {
   public:
    Side(TcpProxy& parent, bool is_downstream) : parent_(parent), downstream_(is_downstream) {}
    void onData(std::string_view data, bool end_stream) override;
    void onEvent(network::ConnectionEvent event) override;
    void onServerHandshakeComplete() override;
    void onAboveWriteBufferHighWatermark() override;
    void onBelowWriteBufferLowWatermark() override;

   private:
    TcpProxy& parent_;
    bool downstream_;
  };

  network::Connection& peerOf(bool downstream) { return downstream ? *upstream_ : *downstream_; }
  // ---- the peer-metadata exchange ----
  // Bytes from `downstream`'s side (true: the client's) towards its peer:
  // held while the exchange is unsettled, else forwarded.
  void forward(bool from_downstream, std::string_view data);
  // The handshake that decides whether the exchange happens is done:
  // upstream's (client sidecar) or downstream's (server sidecar).
  void onExchangeDecided(bool from_downstream_handshake);
  // Takes the peer's frame off `from_downstream`'s bytes; false once closed.
  bool takeFrame(bool from_downstream, std::string_view data, std::string* rest);
  void releaseHeld(bool to_upstream);
  bool exchangeUnsettled() const {
    return hold_to_upstream_ || hold_to_downstream_ || frame_from_ != FrameFrom::kNone;
  }
  enum class FrameFrom { kNone, kUpstream, kDownstream };
  bool hold_to_upstream_ = false;    // client sidecar: until its handshake said
  bool hold_to_downstream_ = false;  // server sidecar: until the client's frame
  std::string to_upstream_;
  std::string to_downstream_;
  bool paused_downstream_ = false;  // reading paused: to_upstream_ is over the limit
  bool paused_upstream_ = false;
  FrameFrom frame_from_ = FrameFrom::kNone;
  std::string frame_buffer_;
  std::string peer_header_;  // the peer sidecar's metadata, for Istio's labels
  void closeBoth();
  // Istio's TCP metrics: the connection's labels. The series is resolved
  // once the caller is known (a TLS downstream: its handshake done; a
  // server-speaks-first app's banner can come before it), else at the
  // close; bytes before that are held in pending_*.
  stats::IstioConnection istioLabels(uint32_t response_flags) const;
  const stats::IstioTcpSeries* istioSeries();
  void authorizeThenConnect(std::string_view first_bytes);
  void connectUpstream(std::string_view initial_data);
  rbac::RbacEnginePtr rbac_;
  // Removes this proxy once both sockets have flushed and closed.
  void maybeRemove();
  bool removed_ = false;
  // Activity stamps a time; the timer checks it when it fires (no re-arm per read).
  void onIdleTimer();
  uint64_t idle_timeout_ms_;
  uint64_t last_activity_ms_ = 0;
  std::unique_ptr<event::Timer> idle_timer_;

  context::WorkerContext& context_;
  std::string cluster_name_;
  uint32_t buffer_limit_;
  std::unique_ptr<network::Connection> downstream_;
  std::unique_ptr<network::Connection> upstream_;
  Side downstream_side_{*this, true};
  Side upstream_side_{*this, false};
  stats::ListenerStats stats_;
  bool downstream_eof_ = false;
  bool upstream_eof_ = false;
  bool closed_ = false;
  bool upstream_connected_ = false;
  const config::TrafficDirection direction_;
  bool istio_opened_ = false;
  const bool downstream_tls_;
  uint64_t pending_received_ = 0;
  uint64_t pending_sent_ = 0;
  const stats::IstioTcpSeries* istio_ = nullptr;
  uint32_t response_flags_ = 0;
  // Access logs: one line at the close, with the bytes each way. Copied (shared
  // formatters and sinks): the connection may outlive the snapshot it began in.
  void writeAccessLogs();
  std::vector<config::AccessLogConfig> access_logs_;
  int64_t start_time_us_ = 0;
  uint64_t start_ms_ = 0;
  uint64_t bytes_received_ = 0;
  uint64_t bytes_sent_ = 0;
  upstream::WorkerHostPtr host_;
};

}  // namespace weft::tcp
