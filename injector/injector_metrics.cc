#include "injector/injector_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace weft::injector {

struct InjectorMetrics::Impl {
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("weft_injector_requests_total")
          .Help("Admission requests answered, by HTTP status")
          .Register(registry);
  prometheus::Family<prometheus::Counter>& injections =
      prometheus::BuildCounter()
          .Name("weft_injector_injections_total")
          .Help("Pods the sidecar was injected into")
          .Register(registry);
  prometheus::Family<prometheus::Counter>& skips = prometheus::BuildCounter()
                                                       .Name("weft_injector_skips_total")
                                                       .Help("Pods left alone, by reason")
                                                       .Register(registry);
  prometheus::Family<prometheus::Counter>& errors =
      prometheus::BuildCounter()
          .Name("weft_injector_errors_total")
          .Help("Requests that could not be served as asked, by reason")
          .Register(registry);
  prometheus::Family<prometheus::Counter>& reloads =
      prometheus::BuildCounter()
          .Name("weft_injector_certificate_reloads_total")
          .Help("Serving certificate reloads from disk")
          .Register(registry);
};

InjectorMetrics::InjectorMetrics() : impl_(std::make_unique<Impl>()) {
  impl_->injections.Add({});
  impl_->reloads.Add({});
}
InjectorMetrics::~InjectorMetrics() = default;

void InjectorMetrics::request(int http_status) {
  impl_->requests.Add({{"code", std::to_string(http_status)}}).Increment();
}
void InjectorMetrics::injected() { impl_->injections.Add({}).Increment(); }
void InjectorMetrics::skipped(const std::string& reason) {
  impl_->skips.Add({{"reason", reason}}).Increment();
}
void InjectorMetrics::error(const std::string& reason) {
  impl_->errors.Add({{"reason", reason}}).Increment();
}
void InjectorMetrics::certificateReloaded() { impl_->reloads.Add({}).Increment(); }

std::string InjectorMetrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, impl_->registry.Collect());
  return out.str();
}

}  // namespace weft::injector
