#include "injector/admission.h"

#include <nlohmann/json.hpp>

#include "common/base/base64.h"
#include "common/base/logging.h"
#include "injector/eligibility.h"

namespace weft::injector {
namespace {

using json = nlohmann::json;

AdmissionAnswer badRequest(const std::string& message, InjectorMetrics& metrics) {
  metrics.error("bad_request");
  metrics.request(400);
  LOG_WARN("admission request refused: %s", message.c_str());
  return {400, "text/plain", message + "\n"};
}

AdmissionAnswer answer(const std::string& uid, json extra, InjectorMetrics& metrics) {
  json response = {{"uid", uid}, {"allowed", true}};
  response.update(extra);
  json review = {
      {"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"response", response}};
  metrics.request(200);
  return {200, "application/json", review.dump()};
}

}  // namespace

AdmissionAnswer review(std::string_view body, Scope scope, const InjectorConfig& config,
                       InjectorMetrics& metrics) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return badRequest("the body is not JSON", metrics);
  if (!doc.is_object() || doc.value("kind", json()) != "AdmissionReview") {
    return badRequest("the body is not an AdmissionReview (kind must be AdmissionReview)", metrics);
  }
  json api_version = doc.value("apiVersion", json());
  if (api_version != "admission.k8s.io/v1") {
    return badRequest(
        "apiVersion " + api_version.dump() + " is not supported: only admission.k8s.io/v1",
        metrics);
  }
  auto request = doc.find("request");
  if (request == doc.end() || !request->is_object()) {
    return badRequest("the AdmissionReview has no request", metrics);
  }
  json uid = request->value("uid", json());
  if (!uid.is_string() || uid.get<std::string>().empty()) {
    return badRequest("request.uid is missing", metrics);
  }
  auto object = request->find("object");
  if (object == request->end() || !object->is_object()) {
    return badRequest("request.object is missing", metrics);
  }
  std::string id = uid.get<std::string>();

  json kind = request->value("kind", json::object());
  bool is_pod = kind.is_object() && kind.value("kind", json()) == "Pod" &&
                kind.value("group", json("")) == "" && object->value("kind", json("Pod")) == "Pod";
  if (!is_pod) {
    metrics.skipped("not_a_pod");
    return answer(id, json::object(), metrics);
  }
  if (request->value("operation", json("CREATE")) != "CREATE") {
    metrics.skipped("not_create");
    return answer(id, json::object(), metrics);
  }

  try {
    json patch;
    PodSource source;
    source.runs_to_completion = ownedByJob(*object);
    Injection injection = injectPod(*object, scope, source, config, &patch);
    if (!injection.error.empty()) {
      metrics.error(injection.skip_reason);
      LOG_WARN("pod %s/%s not injected: %s",
               request->value("namespace", json("")).get<std::string>().c_str(),
               request->value("name", json("")).get<std::string>().c_str(),
               injection.error.c_str());
      return answer(id, {{"warnings", {"weft-injector: not injected: " + injection.error}}},
                    metrics);
    }
    if (!injection.skip_reason.empty()) {
      metrics.skipped(injection.skip_reason);
      return answer(id, json::object(), metrics);
    }
    // Never hand the API server a patch that does not apply (a pod shaped
    // unlike any the API server would send): it would fail the pod.
    (void)object->patch(patch);
    metrics.injected();
    return answer(id, {{"patchType", "JSONPatch"}, {"patch", common::base64Encode(patch.dump())}},
                  metrics);
  } catch (const std::exception& e) {
    // A pod shaped in a way the mutation did not expect: never fail the
    // pod's creation for it (failurePolicy is the operator's choice, not ours).
    metrics.error("internal");
    LOG_ERROR("injecting uid %s failed: %s", id.c_str(), e.what());
    return answer(id, {{"warnings", {std::string("weft-injector: internal error: ") + e.what()}}},
                  metrics);
  }
}

}  // namespace weft::injector
