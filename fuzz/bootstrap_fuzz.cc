// The bootstrap / xDS resource translation (proxy/config): YAML or JSON text
// -> Envoy's Bootstrap proto -> weft's snapshot. Invalid input must come
// back as errors, never as a crash.

#include <string>

#include "proxy/translate/bootstrap_loader.h"
#include "proxy/translate/snapshot_builder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weft;
  std::string text(reinterpret_cast<const char*>(data), size);
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  std::string error;
  if (!translate::parseBootstrap(text, size > 0 && data[0] == '{' ? "fuzz.json" : "fuzz.yaml",
                                 &bootstrap, &error)) {
    return 0;
  }
  common::ErrorList errors;
  translate::translateBootstrap(bootstrap, errors);
  return 0;
}
