// weft-injector's AdmissionReview handler: any request body the API server
// (or anyone reaching the webhook port) could send.

#include "injector/admission.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weft::injector;
  static InjectorConfig config;
  static InjectorMetrics metrics;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  review(body, size > 0 && (data[0] & 1) ? Scope::kOptInOnly : Scope::kNamespaceEnabled, config,
         metrics);
  return 0;
}
