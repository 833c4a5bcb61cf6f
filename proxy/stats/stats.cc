#include "proxy/stats/stats.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "common/tls/tls_library.h"

namespace weft::stats {

struct Store::Families {
  prometheus::Family<prometheus::Counter>* downstream_rq;
  prometheus::Family<prometheus::Gauge>* downstream_cx_active;
  prometheus::Family<prometheus::Counter>* downstream_cx_total;
  prometheus::Family<prometheus::Counter>* downstream_rq_timeout;
  prometheus::Family<prometheus::Counter>* downstream_rq_response_flags;
  prometheus::Family<prometheus::Counter>* protocol_detections;
  prometheus::Family<prometheus::Histogram>* upstream_rq_time;
  prometheus::Family<prometheus::Counter>* upstream_rq;
  prometheus::Family<prometheus::Counter>* upstream_rq_5xx;
  prometheus::Family<prometheus::Counter>* upstream_cx_connect_fail;
  prometheus::Family<prometheus::Counter>* upstream_rq_overflow;
  prometheus::Family<prometheus::Counter>* upstream_rq_timeout;
  prometheus::Family<prometheus::Gauge>* upstream_rq_active;
  prometheus::Family<prometheus::Counter>* upstream_rq_retry;
  prometheus::Family<prometheus::Counter>* upstream_rq_retry_budget_exhausted;
  prometheus::Family<prometheus::Counter>* upstream_rq_per_try_timeout;
  prometheus::Family<prometheus::Counter>* upstream_rq_max_requests_overflow;
  prometheus::Family<prometheus::Counter>* upstream_rq_retry_overflow;
  prometheus::Family<prometheus::Counter>* rbac;
  prometheus::Family<prometheus::Counter>* upstream_cx_overflow;
  prometheus::Family<prometheus::Counter>* outlier_ejections;
  prometheus::Family<prometheus::Counter>* upstream_rq_retry_by_reason;
  prometheus::Family<prometheus::Gauge>* outlier_ejections_active;
  prometheus::Family<prometheus::Counter>* access_log_dropped;
};

Store::Store()
    : registry_(std::make_shared<prometheus::Registry>()), families_(std::make_unique<Families>()) {
  auto& r = *registry_;
  families_->downstream_rq = &prometheus::BuildCounter()
                                  .Name("weft_downstream_rq_total")
                                  .Help("Downstream HTTP requests by response code class")
                                  .Register(r);
  families_->downstream_cx_active = &prometheus::BuildGauge()
                                         .Name("weft_downstream_cx_active")
                                         .Help("Active downstream connections")
                                         .Register(r);
  families_->downstream_cx_total = &prometheus::BuildCounter()
                                        .Name("weft_downstream_cx_total")
                                        .Help("Downstream connections accepted")
                                        .Register(r);
  families_->downstream_rq_response_flags =
      &prometheus::BuildCounter()
           .Name("weft_downstream_rq_response_flags_total")
           .Help(
               "Streams the proxy answered or cut itself, by Envoy's response flag (UH, UF, "
               "UO, NR, URX, UT, LR, UR, UC, DC, DI, FI, UAEX, UPE, SI, NC, DT)")
           .Register(*registry_);
  families_->protocol_detections =
      &prometheus::BuildCounter()
           .Name("weft_protocol_detections_total")
           .Help(
               "Connections whose first bytes chose their filter chain, by result: http/1.1, "
               "http/1.0, h2c, tls, other (none of those), timeout (nothing decisive within the "
               "listener's detection timeout: a server-speaks-first protocol, proxied as TCP)")
           .Register(*registry_);
  families_->downstream_rq_timeout =
      &prometheus::BuildCounter()
           .Name("weft_downstream_rq_timeout_total")
           .Help(
               "Downstream streams and TCP connections ended by a timeout (request_timeout, "
               "stream_idle_timeout, tcp_proxy idle_timeout)")
           .Register(r);
  families_->upstream_rq_time = &prometheus::BuildHistogram()
                                     .Name("weft_upstream_rq_time_seconds")
                                     .Help("Upstream request latency in seconds")
                                     .Register(r);
  families_->upstream_rq = &prometheus::BuildCounter()
                                .Name("weft_upstream_rq_total")
                                .Help("Upstream requests sent")
                                .Register(r);
  families_->upstream_rq_5xx = &prometheus::BuildCounter()
                                    .Name("weft_upstream_rq_5xx_total")
                                    .Help("Upstream responses with a 5xx code")
                                    .Register(r);
  families_->upstream_cx_connect_fail = &prometheus::BuildCounter()
                                             .Name("weft_upstream_cx_connect_fail_total")
                                             .Help("Upstream connection failures")
                                             .Register(r);
  families_->upstream_rq_overflow = &prometheus::BuildCounter()
                                         .Name("weft_upstream_rq_pending_overflow_total")
                                         .Help("Requests refused by the pending-request limit")
                                         .Register(r);
  families_->upstream_rq_timeout = &prometheus::BuildCounter()
                                        .Name("weft_upstream_rq_timeout_total")
                                        .Help("Requests that hit the route timeout")
                                        .Register(r);
  families_->upstream_rq_active = &prometheus::BuildGauge()
                                       .Name("weft_upstream_rq_active")
                                       .Help("Upstream requests in flight")
                                       .Register(r);
  families_->upstream_rq_retry = &prometheus::BuildCounter()
                                      .Name("weft_upstream_rq_retry_total")
                                      .Help("Upstream request retries")
                                      .Register(r);
  families_->upstream_rq_retry_budget_exhausted =
      &prometheus::BuildCounter()
           .Name("weft_upstream_rq_retry_budget_exhausted_total")
           .Help("Retries not made because the retry budget was spent")
           .Register(r);
  families_->upstream_rq_per_try_timeout =
      &prometheus::BuildCounter()
           .Name("weft_upstream_rq_per_try_timeout_total")
           .Help("Upstream attempts that hit the per-try timeout")
           .Register(r);
  families_->upstream_rq_max_requests_overflow =
      &prometheus::BuildCounter()
           .Name("weft_upstream_rq_max_requests_overflow_total")
           .Help("Requests refused by the max_requests circuit breaker")
           .Register(r);
  families_->rbac = &prometheus::BuildCounter()
                         .Name("weft_rbac_decisions_total")
                         .Help("Requests and connections authorized or denied by RBAC")
                         .Register(r);
  families_->upstream_rq_retry_overflow =
      &prometheus::BuildCounter()
           .Name("weft_upstream_rq_retry_overflow_total")
           .Help("Retries not made because of the max_retries circuit breaker")
           .Register(r);
  families_->upstream_cx_overflow =
      &prometheus::BuildCounter()
           .Name("weft_upstream_cx_overflow_total")
           .Help("Connections not opened (or opened as the pool's only one) over max_connections")
           .Register(r);
  families_->upstream_rq_retry_by_reason = &prometheus::BuildCounter()
                                                .Name("weft_upstream_rq_retry_by_reason_total")
                                                .Help("Upstream request retries by reason")
                                                .Register(r);
  families_->outlier_ejections_active = &prometheus::BuildGauge()
                                             .Name("weft_upstream_outlier_ejections_active")
                                             .Help("Hosts ejected by outlier detection now")
                                             .Register(r);
  families_->outlier_ejections = &prometheus::BuildCounter()
                                      .Name("weft_upstream_outlier_ejections_total")
                                      .Help("Hosts ejected by outlier detection")
                                      .Register(r);
  families_->access_log_dropped =
      &prometheus::BuildCounter()
           .Name("weft_access_log_dropped_total")
           .Help(
               "Access-log lines dropped because the log's buffer was full (the file or the "
               "collector reading stdout is not keeping up)")
           .Register(r);
  auto& handshakes = prometheus::BuildCounter()
                         .Name("weft_tls_handshakes_total")
                         .Help("Completed TLS handshakes, by side")
                         .Register(r);
  auto& failures = prometheus::BuildCounter()
                       .Name("weft_tls_handshake_failures_total")
                       .Help("Failed TLS handshakes, by side and reason")
                       .Register(r);
  tls_ = std::make_unique<TlsStats>();
  const char* sides[] = {"server", "client"};
  for (int side = 0; side < 2; ++side) {
    tls_->handshakes[side] = &handshakes.Add({{"side", sides[side]}});
    for (int i = 0; i < kTlsFailureReasonCount; ++i) {
      tls_->failures[side][i] =
          &failures.Add({{"side", sides[side]}, {"reason", kTlsFailureReasons[i]}});
    }
  }
  tls_->certificate_expiry = &prometheus::BuildGauge()
                                  .Name("weft_tls_certificate_expiry_timestamp_seconds")
                                  .Help("When the proxy's workload certificate expires")
                                  .Register(r)
                                  .Add({});
  // Prometheus' build_info convention: a constant 1 whose labels say what
  // runs, so a dashboard can tell the BoringSSL proxies from OpenSSL ones.
  prometheus::BuildGauge()
      .Name("weft_build_info")
      .Help("Always 1; tls_library is the TLS library weft-proxy was built against")
      .Register(r)
      .Add({{"tls_library", tls::tlsLibraryVersion()}})
      .Set(1);
}

int tlsFailureIndex(const std::string& reason) {
  for (int i = 0; i < kTlsFailureReasonCount; ++i) {
    if (reason == kTlsFailureReasons[i]) return i;
  }
  return kTlsFailureReasonCount - 1;  // handshake_error
}

void TlsStats::onHandshakeComplete(bool as_server) const { inc(handshakes[as_server ? 0 : 1]); }

void TlsStats::onHandshakeFailed(bool as_server, const std::string& reason) const {
  inc(failures[as_server ? 0 : 1][tlsFailureIndex(reason)]);
}

Store::~Store() = default;

prometheus::Registry& Store::registry() { return *registry_; }

ListenerStats Store::listener(const std::string& name) {
  auto& rq = *families_->downstream_rq;
  return ListenerStats{
      &rq.Add({{"listener", name}, {"code_class", "1xx"}}),
      &rq.Add({{"listener", name}, {"code_class", "2xx"}}),
      &rq.Add({{"listener", name}, {"code_class", "3xx"}}),
      &rq.Add({{"listener", name}, {"code_class", "4xx"}}),
      &rq.Add({{"listener", name}, {"code_class", "5xx"}}),
      &families_->downstream_cx_active->Add({{"listener", name}}),
      &families_->downstream_cx_total->Add({{"listener", name}}),
      &families_->rbac->Add({{"listener", name}, {"decision", "allowed"}}),
      &families_->rbac->Add({{"listener", name}, {"decision", "denied"}}),
      &families_->downstream_rq_timeout->Add({{"listener", name}}),
      families_->downstream_rq_response_flags,
      families_->protocol_detections,
      name,
  };
}

prometheus::Counter* Store::accessLogDropped(const std::string& path) {
  return &families_->access_log_dropped->Add({{"path", path}});
}

void countResponseFlag(const ListenerStats& stats, const char* flag) {
  if (stats.rq_response_flags == nullptr) return;
  // Family::Add returns the existing series for known labels (a lookup
  // under its mutex): fine on this path, which only error outcomes take.
  stats.rq_response_flags->Add({{"listener", stats.name}, {"flag", flag}}).Increment();
}

void countProtocolDetection(const ListenerStats& stats, const char* result) {
  if (stats.protocol_detections == nullptr) return;
  // Once per inspected connection, a mutex-guarded lookup like the flags'.
  stats.protocol_detections->Add({{"listener", stats.name}, {"result", result}}).Increment();
}

ClusterStats Store::cluster(const std::string& name) {
  // Prometheus' base unit (seconds), so promtool's lint passes; Istio's
  // istio_request_duration_milliseconds keeps Istio's unit.
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  ClusterStats stats{
      &families_->upstream_rq_time->Add({{"cluster", name}}, kBuckets),
      &families_->upstream_rq->Add({{"cluster", name}}),
      &families_->upstream_rq_5xx->Add({{"cluster", name}}),
      &families_->upstream_cx_connect_fail->Add({{"cluster", name}}),
      &families_->upstream_rq_overflow->Add({{"cluster", name}}),
      &families_->upstream_rq_timeout->Add({{"cluster", name}}),
      &families_->upstream_rq_active->Add({{"cluster", name}}),
      &families_->upstream_rq_retry->Add({{"cluster", name}}),
      &families_->upstream_rq_retry_budget_exhausted->Add({{"cluster", name}}),
      &families_->upstream_rq_per_try_timeout->Add({{"cluster", name}}),
      &families_->upstream_rq_max_requests_overflow->Add({{"cluster", name}}),
      &families_->upstream_rq_retry_overflow->Add({{"cluster", name}}),
      &families_->upstream_cx_overflow->Add({{"cluster", name}}),
      &families_->outlier_ejections->Add({{"cluster", name}}),
      &families_->outlier_ejections_active->Add({{"cluster", name}}),
      {},
  };
  auto& by_reason = *families_->upstream_rq_retry_by_reason;
  const char* reasons[] = {"connect-failure", "reset", "per-try-timeout", "status"};
  for (int i = 0; i < 4; ++i) {
    stats.rq_retry_by_reason[i] = &by_reason.Add({{"cluster", name}, {"reason", reasons[i]}});
  }
  return stats;
}

std::string Store::render() const {
  prometheus::TextSerializer serializer;
  std::ostringstream out;
  serializer.Serialize(out, registry_->Collect());
  return out.str();
}

void inc(prometheus::Counter* counter, double by) { counter->Increment(by); }
void gaugeAdd(prometheus::Gauge* gauge, double by) { gauge->Increment(by); }
void gaugeSet(prometheus::Gauge* gauge, double value) { gauge->Set(value); }
void observe(prometheus::Histogram* histogram, double value) { histogram->Observe(value); }

void countResponseCode(const ListenerStats& stats, int code) {
  if (code < 200) {
    inc(stats.rq_1xx);
  } else if (code < 300) {
    inc(stats.rq_2xx);
  } else if (code < 400) {
    inc(stats.rq_3xx);
  } else if (code < 500) {
    inc(stats.rq_4xx);
  } else {
    inc(stats.rq_5xx);
  }
}

}  // namespace weft::stats
