#pragma once

// OpenTelemetry span export: OTLP over gRPC (TraceService/Export) or
// OTLP/HTTP (protobuf POST) to a collector cluster, as Envoy's OpenTelemetry
// tracer does. Runtime state
// owned by the server, outliving every snapshot: OtlpExporters hands the same
// exporter to every config naming the same collector, so a push loses no
// buffered span.
//
// Workers only append to a bounded queue under a mutex (no I/O, no
// allocation beyond the span); the main thread sends a batch every
// flush interval, one export in flight per collector. A full queue, a
// collector cluster with no endpoint or a failed export drops spans and
// counts them (weft_tracing_spans_dropped_total{reason}); a request never
// waits on, or fails because of, tracing.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/event/dispatcher.h"
#include "proxy/config/cluster_config.h"
#include "proxy/tracing/span.h"

namespace prometheus {
class Counter;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace weft::tracing {

// OTLP/gRPC's method.
inline constexpr char kOtlpExportPath[] =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

using Tags = std::vector<std::pair<std::string, std::string>>;

// Encodes spans as one ExportTraceServiceRequest (serialized): `service_name`
// as the resource's service.name beside `resource`, and `span_tags` (the
// process's own: node_id, istio.*) on every span, as Envoy tags them.
std::string encodeExportRequest(const std::vector<Span>& spans, const std::string& service_name,
                                const Tags& resource, const Tags& span_tags);

class OtlpExporters : public SpanExporterFactory {
 public:
  struct Options {
    uint64_t flush_interval_ms = 1000;
    size_t max_queued_spans = 8192;  // per collector
    size_t max_batch_spans = 512;    // per export
  };
  OtlpExporters(event::Dispatcher& main, prometheus::Registry& registry, Options options);
  ~OtlpExporters() override;

  std::shared_ptr<SpanExporter> exporterFor(const CollectorConfig& collector) override;
  // The collector clusters' current endpoints and TLS, from the snapshot
  // just applied (main thread).
  void setClusters(const std::map<std::string, config::ClusterConfigPtr>& clusters);
  // What every export carries about this proxy (main thread, before or
  // between exports): resource attributes and tags on every span.
  void setProcessTags(Tags resource, Tags span_tags) {
    resource_ = std::move(resource);
    span_tags_ = std::move(span_tags);
  }
  // Sends a batch of whatever is queued now (drain, exit); main thread.
  void flush();
  // Nothing queued and no export in flight.
  bool idle();

 private:
  class Exporter;
  void onTimer();
  void countDropped(const std::string& reason, size_t spans);

  event::Dispatcher& main_;
  Tags resource_;
  Tags span_tags_;
  const Options options_;
  prometheus::Family<prometheus::Counter>* dropped_family_;
  prometheus::Counter* exported_;
  std::map<std::string, prometheus::Counter*> dropped_;  // by reason
  std::mutex mutex_;  // exporters_ (translation runs on main too)
  std::map<std::string, std::shared_ptr<Exporter>> exporters_;  // by cluster + service name
  std::map<std::string, config::ClusterConfigPtr> clusters_;
  event::Timer timer_;
};

}  // namespace weft::tracing
