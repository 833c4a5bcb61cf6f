#include "controlplane/metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <sstream>

namespace weft::control {

struct ControlMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Gauge* connected;
  prometheus::Counter* pushes;
  std::array<prometheus::Counter*, mesh::kXdsTypeCount> acks;
  prometheus::Counter* nacks;
  prometheus::Gauge* config_errors;
  prometheus::Counter* config_updates;
  prometheus::Histogram* translate_seconds;
  prometheus::Histogram* push_ack_seconds;
  prometheus::Counter* certificates_issued;
  prometheus::Family<prometheus::Counter>* certificates_refused;
};

ControlMetrics::ControlMetrics() : impl_(std::make_unique<Impl>()) {
  auto& r = *impl_->registry;
  impl_->connected = &prometheus::BuildGauge()
                          .Name("weft_control_connected_proxies")
                          .Help("Proxies with an open ADS stream")
                          .Register(r)
                          .Add({});
  impl_->pushes = &prometheus::BuildCounter()
                       .Name("weft_control_xds_pushes_total")
                       .Help("xDS responses sent")
                       .Register(r)
                       .Add({});
  auto& acks = prometheus::BuildCounter()
                   .Name("weft_control_xds_acks_total")
                   .Help("xDS responses acknowledged, by type")
                   .Register(r);
  for (int t = 0; t < mesh::kXdsTypeCount; ++t) {
    impl_->acks[t] = &acks.Add({{"type", mesh::shortName(static_cast<mesh::XdsType>(t))}});
  }
  impl_->nacks = &prometheus::BuildCounter()
                      .Name("weft_control_xds_nacks_total")
                      .Help("xDS responses rejected by a proxy")
                      .Register(r)
                      .Add({});
  impl_->config_errors = &prometheus::BuildGauge()
                              .Name("weft_control_config_errors")
                              .Help("Objects rejected in the current configuration")
                              .Register(r)
                              .Add({});
  impl_->config_updates = &prometheus::BuildCounter()
                               .Name("weft_control_config_updates_total")
                               .Help("Configuration changes applied")
                               .Register(r)
                               .Add({});
  impl_->translate_seconds = &prometheus::BuildHistogram()
                                  .Name("weft_control_config_load_seconds")
                                  .Help("Time to load and validate a configuration change")
                                  .Register(r)
                                  .Add({}, prometheus::Histogram::BucketBoundaries{
                                               0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5});
  impl_->certificates_issued = &prometheus::BuildCounter()
                                    .Name("weft_ca_certificates_issued_total")
                                    .Help("Workload certificates signed by the mesh CA")
                                    .Register(r)
                                    .Add({});
  impl_->certificates_refused = &prometheus::BuildCounter()
                                     .Name("weft_ca_requests_refused_total")
                                     .Help("Certificate requests the mesh CA refused, by reason")
                                     .Register(r);
  for (const char* reason : {"unauthenticated", "permission_denied", "invalid_request"}) {
    impl_->certificates_refused->Add({{"reason", reason}});
  }
  impl_->push_ack_seconds = &prometheus::BuildHistogram()
                                 .Name("weft_control_xds_push_ack_seconds")
                                 .Help("From a configuration-change push to the proxy's ACK")
                                 .Register(r)
                                 .Add({}, prometheus::Histogram::BucketBoundaries{
                                              0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5});
}

ControlMetrics::~ControlMetrics() = default;

void ControlMetrics::certificateIssued() { impl_->certificates_issued->Increment(); }
void ControlMetrics::certificateRefused(const std::string& reason) {
  impl_->certificates_refused->Add({{"reason", reason}}).Increment();
}

void ControlMetrics::proxyConnected() { impl_->connected->Increment(); }
void ControlMetrics::proxyDisconnected() { impl_->connected->Decrement(); }
void ControlMetrics::push() { impl_->pushes->Increment(); }
void ControlMetrics::ack(mesh::XdsType type) { impl_->acks[type]->Increment(); }
void ControlMetrics::nack() { impl_->nacks->Increment(); }
void ControlMetrics::pushAcked(double seconds) { impl_->push_ack_seconds->Observe(seconds); }
void ControlMetrics::configErrors(size_t count) {
  impl_->config_errors->Set(static_cast<double>(count));
}
void ControlMetrics::configApplied(double seconds) {
  impl_->config_updates->Increment();
  impl_->translate_seconds->Observe(seconds);
}

std::string ControlMetrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, impl_->registry->Collect());
  return out.str();
}

}  // namespace weft::control
