#pragma once

// The HTTP connection manager for one downstream connection: picks the codec
// (HTTP/1.1, or HTTP/2 by its preface), and runs each request stream through
// the router: route match, cluster and host choice, upstream connection pool,
// and streaming of both directions with back-pressure.

#include <list>
#include <memory>
#include <string>

#include "common/http/codec.h"
#include "common/network/connection.h"
#include "proxy/config/snapshot.h"
#include "proxy/context/worker_context.h"
#include "proxy/rbac/rbac_engine.h"
#include "proxy/stats/stats.h"

namespace weft::http {

class ActiveStream;

class ConnectionManager : public network::ConnectionCallbacks,
                          public ServerConnectionCallbacks,
                          public context::ActiveConnection {
 public:
  // `chain` lives in `snapshot`, which this object keeps alive.
  ConnectionManager(context::WorkerContext& context, const config::FilterChainConfig& chain,
                    config::SnapshotPtr snapshot, stats::ListenerStats stats,
                    std::unique_ptr<network::Connection> connection, uint32_t buffer_limit);
  ~ConnectionManager() override;

  // network::ConnectionCallbacks
  void onData(std::string_view data, bool end_stream) override;
  void onEvent(network::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  // ServerConnectionCallbacks
  StreamDecoder& newStream(StreamEncoder& response_encoder) override;

  // server::ActiveConnection
  void startDrain() override;

  // Called by a stream when both directions are done.
  void onStreamDone(ActiveStream* stream);

  context::WorkerContext& context() { return context_; }
  const config::FilterChainConfig& chain() const { return chain_; }
  const std::string* chainFingerprint() const override { return &fingerprint_; }
  const std::string* chainFingerprintWithoutRbac() const override {
    return &chain_.fingerprint_without_rbac;
  }
  bool adoptAuthorization(const config::FilterChainConfig& next) override;
  // The RBAC rules in force: the chain's, or a later update's (adopted).
  const rbac::RbacEnginePtr& rbac() const { return rbac_; }
  const stats::ListenerStats& stats() const { return stats_; }
  network::Connection& connection() { return *connection_; }
  // %PROTOCOL%: "HTTP/2" or "HTTP/1.1".
  const char* protocolName() const { return http2_ ? "HTTP/2" : "HTTP/1.1"; }

 private:
  bool createCodec(std::string_view first_bytes);
  // Drain on the codec: HTTP/1 closes after its current response; HTTP/2
  // announces it, and sends the final GOAWAY after kGoAwayGraceMs.
  void drainCodec();
  void armIdleTimer();
  void onIdleTimeout();
  // request_headers_timeout: armed when bytes arrive and no request is in
  // progress yet (so a request that arrives whole touches no timer).
  void armHeadersTimer();
  void onHeadersTimeout();

  context::WorkerContext& context_;
  const config::FilterChainConfig& chain_;
  config::SnapshotPtr snapshot_;  // keeps chain_ and its routes alive
  // The chain's, until an update that changed only them is adopted.
  std::string fingerprint_;
  rbac::RbacEnginePtr rbac_;
  stats::ListenerStats stats_;
  std::unique_ptr<network::Connection> connection_;
  std::unique_ptr<ServerConnection> codec_;
  std::string sniffed_;  // first bytes, until the protocol is known
  std::list<std::unique_ptr<ActiveStream>> streams_;
  bool closed_ = false;
  std::unique_ptr<event::Timer> idle_timer_;  // armed while no stream is active
  std::unique_ptr<event::Timer> headers_timer_;
  bool headers_timer_armed_ = false;
  bool http2_ = false;
  bool draining_ = false;
  std::unique_ptr<event::Timer> goaway_timer_;
};

}  // namespace weft::http
