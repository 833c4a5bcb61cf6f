#include "injector/pod_injector.h"

#include "injector/eligibility.h"
#include "injector/patch_assembly.h"
#include "injector/sidecar_templates.h"
#include "injector/workload_labels.h"

namespace weft::injector {

using json = nlohmann::json;

Injection injectPod(const json& pod, Scope scope, const PodSource& source,
                    const InjectorConfig& config, json* patch) {
  Injection result;
  result.skip_reason = skipReason(pod, scope);
  if (!result.skip_reason.empty()) return result;

  json init, proxy;
  bool native = config.native_sidecar;
  bool exit_with_app = !native && source.runs_to_completion;
  try {
    json limits = resources(pod, config);
    init = initContainer(pod, config, limits);
    proxy = proxyContainer(config, limits, native, exit_with_app, workloadEnvironment(pod));
  } catch (const InvalidAnnotation& e) {
    result.skip_reason = "invalid_annotation";
    result.error = e.message;
    return result;
  }

  *patch = injectionPatch(pod, config, init, proxy, native, exit_with_app);
  return result;
}

}  // namespace weft::injector
