#include "proxy/http/stream_telemetry.h"

#include <cstdlib>

#include "proxy/workload/workload_metadata.h"

namespace weft::http {

using config::TrafficDirection;
using workload::kPeerMetadataHeader;

void StreamTelemetry::onRequestHeaders(HeaderMap& request) {
  const std::string* header = request.get(kPeerMetadataHeader);
  if (header == nullptr) return;
  // Only a sidecar that proved itself with a certificate may say who it is;
  // the app behind an outbound listener may not claim anything.
  if (direction_ == TrafficDirection::kInbound && tls_ != nullptr && tls_->peer_certificate) {
    peer_header_ = *header;
  }
  request.remove(kPeerMetadataHeader);
}

void StreamTelemetry::onResponseHeaders(HeaderMap& response, const std::string& local_header,
                                        bool from_mesh) {
  if (direction_ == TrafficDirection::kOutbound) {
    if (const std::string* header = response.get(kPeerMetadataHeader)) {
      if (from_mesh) peer_header_ = *header;
      response.remove(kPeerMetadataHeader);
    }
  } else if (direction_ == TrafficDirection::kInbound) {
    // Whatever the app put there is not the destination's word.
    response.remove(kPeerMetadataHeader);
    if (!peer_header_.empty() && !local_header.empty())
      response.set(kPeerMetadataHeader, local_header);
  }
}

void StreamTelemetry::onGrpcStatus(const HeaderMap& headers) {
  const std::string* status = headers.get("grpc-status");
  if (status == nullptr) return;
  char* end = nullptr;
  long value = std::strtol(status->c_str(), &end, 10);
  if (end != status->c_str() && *end == '\0' && value >= 0 && value <= 16) {
    grpc_status_ = static_cast<int>(value);
  }
}

void StreamTelemetry::record(stats::IstioRecorder& recorder, bool grpc, int response_code,
                             uint32_t response_flags, uint64_t duration_ms,
                             std::string_view service) const {
  if (!enabled()) return;
  stats::IstioRequest request;
  request.reporter = direction_ == TrafficDirection::kInbound ? stats::Reporter::kDestination
                                                              : stats::Reporter::kSource;
  request.peer_header = peer_header_;
  if (request.reporter == stats::Reporter::kDestination) {
    request.mutual_tls = tls_ != nullptr && tls_->peer_certificate;
    if (request.mutual_tls) request.peer_principal = tls_->peer_identity;
  } else {
    request.service = service;
  }
  request.grpc = grpc;
  request.response_code = response_code;
  request.grpc_status = grpc ? grpc_status_ : -1;
  request.response_flags = response_flags;
  request.duration_ms = static_cast<double>(duration_ms);
  request.request_bytes = request_bytes_;
  request.response_bytes = response_bytes_;
  recorder.recordRequest(request);
}

}  // namespace weft::http
