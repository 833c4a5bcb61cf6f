#pragma once

// The tracing of one HTTP stream at one sidecar (Envoy's tracing in the
// connection manager, spawn_upstream_span off: one span per proxy hop).
// At the request: the caller's trace context is read (W3C, then B3); the
// sampling decision is the caller's when it made one, else
// random_sampling's, capped by overall_sampling; a span id is made, and the
// request goes on carrying this span as its parent (traceparent, and B3 in
// the format the caller used) whether sampled or not, so the hops after
// agree. At the end of the stream a sampled span is handed to the exporter:
// CLIENT on an outbound listener, SERVER otherwise.

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "common/http/header_map.h"
#include "proxy/tracing/span.h"
#include "proxy/tracing/trace_context.h"

namespace weft::tracing {

// The connection manager's tracing, immutable and shared by a snapshot.
struct TracingConfig {
  double random_sampling = 1.0;   // a share, 0..1 (Envoy's default 100%)
  double overall_sampling = 1.0;  // caps every decision made here
  uint32_t max_path_tag_length = 256;
  std::string collector_cluster;  // for the config's cluster check
  std::shared_ptr<SpanExporter> exporter;
};

// What the stream knew at its end, for the span's attributes.
struct SpanOutcome {
  int response_code = 0;       // 0: no response was sent
  int grpc_status = -1;        // -1: not gRPC or none seen
  std::string response_flags;  // Envoy's short names ("UH,URX"), "-" for none
  std::string upstream_cluster;
  std::string upstream_address;
  std::string protocol;            // "HTTP/1.1", "HTTP/2"
  std::string peer_principal;      // the caller's SPIFFE ID (server span), from its certificate
  std::string upstream_principal;  // the callee sidecar's (client span), from the exchange
};

class StreamTracer {
 public:
  // Reads and rewrites `request`'s propagation headers: a context is always
  // continued or begun, sampled or not.
  StreamTracer(std::shared_ptr<const TracingConfig> config, http::HeaderMap& request, SpanKind kind,
               std::mt19937_64& rng, int64_t now_us);

  bool sampled() const { return context_.sampled; }
  const std::string& traceId() const { return context_.trace_id; }
  const std::string& spanId() const { return span_id_; }

  // Tags the span (name: "<service>/*", as Istio's route decorator makes it)
  // and submits it when sampled.
  // The process's own tags (node_id, istio.*) are the exporter's to add.
  void finish(const std::string& service, const std::string& peer_address,
              const SpanOutcome& outcome, int64_t now_us);

 private:
  void keepRequestTags(const http::HeaderMap& request);

  std::shared_ptr<const TracingConfig> config_;
  SpanKind kind_;
  TraceContext context_;
  bool continued_ = false;  // the caller sent a context: its span is our parent
  std::string span_id_;
  int64_t start_time_us_;
  // Kept from the request (it is rewritten on the way upstream).
  std::string method_;
  std::string url_;
  std::string user_agent_;
  std::string request_id_;
  std::string authority_;
  std::string scheme_;
  std::string path_;
};

}  // namespace weft::tracing
