#pragma once

// One finished span as the proxy reports it: what the exporter turns into an
// OTLP Span. Ids are lower-case hex (32 digits for the trace, 16 for spans),
// as the propagation headers carry them; times are wall-clock microseconds.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace weft::tracing {

enum class SpanKind { kServer, kClient };

struct Span {
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;  // empty for a root span
  std::string trace_state;
  std::string name;
  SpanKind kind = SpanKind::kServer;
  int64_t start_time_us = 0;
  int64_t end_time_us = 0;
  // String-valued, as Envoy's tracers tag spans; OpenTelemetry's semantic
  // conventions type some as integers.
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<std::pair<std::string, int64_t>> int_attributes;
  bool error = false;  // OTLP status ERROR (5xx, reset, no response)
};

// Where finished spans go. submit() is called by workers and must not block
// on I/O; an implementation buffers (bounded) and exports elsewhere.
class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  virtual void submit(Span&& span) = 0;
};

// Where and how an exporter sends: OTLP over gRPC (TraceService/Export) or
// OTLP/HTTP (a protobuf POST to http_path), to the cluster's endpoints.
struct CollectorConfig {
  std::string cluster;
  std::string service_name;
  uint64_t timeout_ms = 0;  // 0: 5 s
  bool http = false;
  std::string http_path;       // e.g. /v1/traces
  std::string http_authority;  // the Host the URI names

  std::string key() const {
    return cluster + '\n' + service_name + '\n' + std::to_string(timeout_ms) + '\n' +
           (http ? "http " + http_authority + http_path : "grpc");
  }
};

// Hands out exporters by collector: the same collector in the next push is
// the same exporter, so buffered spans survive config changes.
class SpanExporterFactory {
 public:
  virtual ~SpanExporterFactory() = default;
  virtual std::shared_ptr<SpanExporter> exporterFor(const CollectorConfig& collector) = 0;
};

}  // namespace weft::tracing
