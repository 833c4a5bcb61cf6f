#pragma once

// What one HTTP stream's Istio metrics need, gathered as it runs: the peer
// metadata exchange on both sides (the caller's x-weft-peer-metadata taken
// off the request at the destination, trusted only over mTLS; the
// destination's taken off the response at the source; the destination
// answers a sidecar caller with its own), body sizes and the gRPC status.
// Neither app ever sees the header: both sidecars remove it.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/header_map.h"
#include "common/network/transport_socket.h"
#include "proxy/config/snapshot.h"
#include "proxy/stats/istio_metrics.h"

namespace weft::http {

class StreamTelemetry {
 public:
  // `tls`: the downstream connection's handshake, or nullptr (plaintext).
  StreamTelemetry(config::TrafficDirection direction, const network::TransportInfo* tls)
      : direction_(direction), tls_(tls) {}

  bool enabled() const { return direction_ != config::TrafficDirection::kUnspecified; }
  void onRequestHeaders(HeaderMap& request);
  // `local_header`: this sidecar's own metadata (IstioMetrics::localHeader());
  // `from_mesh`: outbound, the response came over a TLS cluster (a sidecar).
  void onResponseHeaders(HeaderMap& response, const std::string& local_header, bool from_mesh);
  void onRequestBody(size_t bytes) { request_bytes_ += bytes; }
  void onResponseBody(size_t bytes) { response_bytes_ += bytes; }
  // grpc-status of a trailers-only response or of the trailers.
  void onGrpcStatus(const HeaderMap& headers);
  void setGrpcStatus(int status) { grpc_status_ = status; }
  uint64_t requestBytes() const { return request_bytes_; }
  uint64_t responseBytes() const { return response_bytes_; }
  int grpcStatus() const { return grpc_status_; }  // -1: none seen
  // The peer sidecar's metadata as exchanged (empty: none, or not trusted).
  const std::string& peerHeader() const { return peer_header_; }

  // `service`: the Service of the cluster the router chose
  // (ClusterConfig::service), empty when none.
  void record(stats::IstioRecorder& recorder, bool grpc, int response_code, uint32_t response_flags,
              uint64_t duration_ms, std::string_view service) const;

 private:
  const config::TrafficDirection direction_;
  const network::TransportInfo* const tls_;
  std::string peer_header_;
  uint64_t request_bytes_ = 0;
  uint64_t response_bytes_ = 0;
  int grpc_status_ = -1;
};

}  // namespace weft::http
