// weft-control's configuration parser and validator: multi-document
// Kubernetes-style YAML (Services, EndpointSlices, HTTPRoutes, policies).

#include <string>

#include "controlplane/config/parser.h"
#include "controlplane/config/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weft::control;
  ConfigSet set;
  parseYamlDocuments(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml", set);
  validateConfig(set);
  return 0;
}
