#include "injector/pod_injector.h"

#include "injector/eligibility.h"
#include "injector/patch_assembly.h"
#include "injector/probe_rewrite.h"
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
  ProbeRewrite probes;
  try {
    json limits = resources(pod, config);
    init = initContainer(pod, config, limits);
    probes = rewriteProbes(pod, config);
    auto env = workloadEnvironment(pod);
    if (!probes.probes.empty()) {
      env.emplace_back(mesh::sidecar_env::kAppProbes, mesh::appProbesToJson(probes.probes));
    }
    proxy = proxyContainer(config, limits, native, exit_with_app, env);
  } catch (const InvalidAnnotation& e) {
    result.skip_reason = "invalid_annotation";
    result.error = e.message;
    return result;
  }

  // The probe replacements first: their paths index the pod's own lists,
  // before the proxy's insertion shifts them.
  *patch = std::move(probes.patch);
  for (auto& op : injectionPatch(pod, config, init, proxy, native, exit_with_app)) {
    patch->push_back(std::move(op));
  }
  return result;
}

}  // namespace weft::injector
