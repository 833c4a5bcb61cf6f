#include "proxy/tracing/otlp_exporter.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "common/base/logging.h"
#include "common/grpc/grpc_stream.h"
#include "common/http/one_shot_request.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace weft::tracing {
namespace {

namespace otlp_trace = opentelemetry::proto::trace::v1;
namespace otlp_common = opentelemetry::proto::common::v1;

// Hex ids to OTLP's bytes; the ids were validated or made here, so they are hex.
std::string idBytes(const std::string& hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

void addAttribute(google::protobuf::RepeatedPtrField<otlp_common::KeyValue>* out,
                  const std::string& key, const std::string& value) {
  otlp_common::KeyValue* kv = out->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

}  // namespace

std::string encodeExportRequest(const std::vector<Span>& spans, const std::string& service_name,
                                const Tags& resource, const Tags& span_tags) {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest request;
  otlp_trace::ResourceSpans* resource_spans = request.add_resource_spans();
  auto* resource_attributes = resource_spans->mutable_resource()->mutable_attributes();
  addAttribute(resource_attributes, "service.name", service_name);
  for (const auto& [key, value] : resource) addAttribute(resource_attributes, key, value);
  otlp_trace::ScopeSpans* scope_spans = resource_spans->add_scope_spans();
  scope_spans->mutable_scope()->set_name("weft-proxy");
  for (const Span& span : spans) {
    otlp_trace::Span* out = scope_spans->add_spans();
    out->set_trace_id(idBytes(span.trace_id));
    out->set_span_id(idBytes(span.span_id));
    if (!span.parent_span_id.empty()) out->set_parent_span_id(idBytes(span.parent_span_id));
    out->set_trace_state(span.trace_state);
    out->set_flags(1);  // W3C's sampled flag: only sampled spans are exported
    out->set_name(span.name);
    out->set_kind(span.kind == SpanKind::kClient ? otlp_trace::Span::SPAN_KIND_CLIENT
                                                 : otlp_trace::Span::SPAN_KIND_SERVER);
    out->set_start_time_unix_nano(static_cast<uint64_t>(span.start_time_us) * 1000);
    out->set_end_time_unix_nano(static_cast<uint64_t>(span.end_time_us) * 1000);
    for (const auto& [key, value] : span.attributes) {
      addAttribute(out->mutable_attributes(), key, value);
    }
    for (const auto& [key, value] : span.int_attributes) {
      otlp_common::KeyValue* kv = out->add_attributes();
      kv->set_key(key);
      kv->mutable_value()->set_int_value(value);
    }
    for (const auto& [key, value] : span_tags) addAttribute(out->mutable_attributes(), key, value);
    if (span.error) out->mutable_status()->set_code(otlp_trace::Status::STATUS_CODE_ERROR);
  }
  return request.SerializeAsString();
}

// One collector: the queue workers fill, the export in flight.
class OtlpExporters::Exporter : public SpanExporter, public std::enable_shared_from_this<Exporter> {
 public:
  Exporter(OtlpExporters& owner, const CollectorConfig& collector)
      : owner_(owner),
        collector_(collector),
        cluster_(collector.cluster),
        service_name_(collector.service_name.empty() ? "unknown_service:weft-proxy"
                                                     : collector.service_name),
        timeout_ms_(collector.timeout_ms == 0 ? 5000 : collector.timeout_ms),
        deadline_(owner.main_, [this] { onDeadline(); }) {}

  void submit(Span&& span) override {
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      if (queue_.size() < owner_.options_.max_queued_spans) {
        queue_.push_back(std::move(span));
        return;
      }
    }
    owner_.countDropped("queue_full", 1);
  }

  // Main thread: one batch, unless an export is still in flight.
  void exportBatch() {
    if (busy()) return;
    std::vector<Span> batch;
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      size_t n = std::min(queue_.size(), owner_.options_.max_batch_spans);
      if (n == 0) return;
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
    }
    auto it = owner_.clusters_.find(cluster_);
    if (it == owner_.clusters_.end() || it->second->hosts.empty()) {
      owner_.countDropped("no_collector", batch.size());
      return;
    }
    const config::ClusterConfig& cluster = *it->second;
    const network::Address& host = cluster.hosts[next_host_++ % cluster.hosts.size()].address;
    in_flight_ = batch.size();
    std::string body =
        encodeExportRequest(batch, service_name_, owner_.resource_, owner_.span_tags_);
    deadline_.enableMs(timeout_ms_);
    if (collector_.http) {
      http::HeaderMap headers;
      headers.add(":method", "POST");
      headers.add(":path", collector_.http_path);
      headers.add(":authority", collector_.http_authority);
      headers.add("content-type", "application/x-protobuf");
      http_call_ = std::make_unique<http::OneShotRequest>(
          owner_.main_, host, cluster.tls, std::move(headers), std::move(body),
          [this](int status, const std::string& reason) {
            // OTLP/HTTP: any 2xx is success; 0 is no response at all.
            onDone(status >= 200 && status < 300 ? 0 : 14,
                   status == 0 ? reason : "HTTP status " + std::to_string(status));
          });
      http_call_->start();
      return;
    }
    std::string authority = cluster.service.empty() ? cluster_ : cluster.service;
    call_ = std::make_unique<grpc::GrpcStream>(
        owner_.main_, host, authority, kOtlpExportPath, [](std::string_view) {},
        [this](int status, const std::string& message) { onDone(status, message); });
    if (cluster.tls) call_->setTls(cluster.tls, nullptr);
    call_->start();
    call_->send(body);
    call_->closeSend();
  }

  bool idle() {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    return queue_.empty() && !busy();
  }

 private:
  void onDone(int status, const std::string& message) {
    deadline_.disable();
    if (status == 0) {
      owner_.exported_->Increment(static_cast<double>(in_flight_));
      if (failing_) LOG_INFO("tracing: exports to cluster '%s' succeed again", cluster_.c_str());
      failing_ = false;
    } else {
      owner_.countDropped("export_failed", in_flight_);
      // Once per outage, not once per flush: the counter has the rest.
      if (!failing_)
        LOG_WARN("tracing: export of %zu spans to cluster '%s' failed: grpc-status %d %s",
                 in_flight_, cluster_.c_str(), status, message.c_str());
      failing_ = true;
    }
    in_flight_ = 0;
    // Not from inside the call's own callback.
    if (call_) owner_.main_.post([self = call_.release()] { delete self; });
    if (http_call_) owner_.main_.post([self = http_call_.release()] { delete self; });
    // A backlog of a full batch or more goes out now, not a flush interval
    // later: a busy sidecar's spans must not outrun one batch per second.
    // (After a failure the interval is the backoff.)
    if (status == 0 && backlog() >= owner_.options_.max_batch_spans) {
      owner_.main_.post([weak = weak_from_this()] {
        if (auto self = weak.lock()) self->exportBatch();
      });
    }
  }
  size_t backlog() {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    return queue_.size();
  }
  void onDeadline() {
    if (!busy()) return;
    call_.reset();  // from a timer, not the call's callback: safe to destroy now
    http_call_.reset();
    owner_.countDropped("export_failed", in_flight_);
    if (!failing_)
      LOG_WARN("tracing: export to cluster '%s' timed out after %llu ms", cluster_.c_str(),
               static_cast<unsigned long long>(timeout_ms_));
    failing_ = true;
    in_flight_ = 0;
  }

  OtlpExporters& owner_;
  const CollectorConfig collector_;
  const std::string cluster_;
  const std::string service_name_;
  const uint64_t timeout_ms_;
  std::mutex queue_mutex_;
  std::vector<Span> queue_;
  bool busy() const { return call_ != nullptr || http_call_ != nullptr; }

  std::unique_ptr<grpc::GrpcStream> call_;
  std::unique_ptr<http::OneShotRequest> http_call_;
  size_t in_flight_ = 0;
  size_t next_host_ = 0;
  bool failing_ = false;  // the last export failed (logged once per outage)
  event::Timer deadline_;
};

OtlpExporters::OtlpExporters(event::Dispatcher& main, prometheus::Registry& registry,
                             Options options)
    : main_(main),
      options_(options),
      dropped_family_(&prometheus::BuildCounter()
                           .Name("weft_tracing_spans_dropped_total")
                           .Help("Sampled spans not exported, by reason (queue_full, "
                                 "no_collector, export_failed)")
                           .Register(registry)),
      exported_(&prometheus::BuildCounter()
                     .Name("weft_tracing_spans_exported_total")
                     .Help("Spans the collector accepted")
                     .Register(registry)
                     .Add({})),
      timer_(main, [this] { onTimer(); }) {
  for (const char* reason : {"queue_full", "no_collector", "export_failed"}) {
    dropped_[reason] = &dropped_family_->Add({{"reason", reason}});
  }
}

OtlpExporters::~OtlpExporters() = default;

void OtlpExporters::countDropped(const std::string& reason, size_t spans) {
  if (spans > 0) dropped_.at(reason)->Increment(static_cast<double>(spans));
}

std::shared_ptr<SpanExporter> OtlpExporters::exporterFor(const CollectorConfig& collector) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& exporter = exporters_[collector.key()];
  if (!exporter) exporter = std::make_shared<Exporter>(*this, collector);
  if (!timer_.enabled()) timer_.enableMs(options_.flush_interval_ms);
  return exporter;
}

void OtlpExporters::setClusters(const std::map<std::string, config::ClusterConfigPtr>& clusters) {
  clusters_ = clusters;
}

void OtlpExporters::onTimer() {
  flush();
  timer_.enableMs(options_.flush_interval_ms);
}

bool OtlpExporters::idle() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [key, exporter] : exporters_) {
    if (!exporter->idle()) return false;
  }
  return true;
}

void OtlpExporters::flush() {
  std::vector<std::shared_ptr<Exporter>> exporters;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [key, exporter] : exporters_) exporters.push_back(exporter);
  }
  for (auto& exporter : exporters) exporter->exportBatch();
}

}  // namespace weft::tracing
