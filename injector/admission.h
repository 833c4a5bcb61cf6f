#pragma once

// One AdmissionReview (admission.k8s.io/v1) in, one out: the webhook's
// request handling without the transport, so it is tested directly.

#include <string>
#include <string_view>

#include "injector/injector_config.h"
#include "injector/injector_metrics.h"
#include "injector/pod_injector.h"

namespace weft::injector {

struct AdmissionAnswer {
  int http_status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// Malformed reviews get HTTP 400 naming what is wrong; everything else is
// allowed, with a patch when the pod is injected and a warning when the
// injector could not do what the pod asked. Never throws.
AdmissionAnswer review(std::string_view body, Scope scope, const InjectorConfig& config,
                       InjectorMetrics& metrics);

}  // namespace weft::injector
