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
  // String-valued, as Envoy's tracers tag spans.
  std::vector<std::pair<std::string, std::string>> attributes;
  bool error = false;  // OTLP status ERROR (5xx, reset, no response)
};

// Where finished spans go. submit() is called by workers and must not block
// on I/O; an implementation buffers (bounded) and exports elsewhere.
class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  virtual void submit(Span&& span) = 0;
};

// Hands out exporters by collector: the same cluster and service name in the
// next push is the same exporter, so buffered spans survive config changes.
class SpanExporterFactory {
 public:
  virtual ~SpanExporterFactory() = default;
  virtual std::shared_ptr<SpanExporter> exporterFor(const std::string& cluster,
                                                    const std::string& service_name,
                                                    uint64_t timeout_ms) = 0;
};

}  // namespace weft::tracing
