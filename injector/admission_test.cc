#include "injector/admission.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/base/base64.h"

namespace weft::injector {
namespace {

using json = nlohmann::json;

json reviewOf(json object, json kind = {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}) {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "0df28fbd-5f5f-11e8-bc74-36e6bb280816"},
            {"kind", kind},
            {"namespace", "shop"},
            {"operation", "CREATE"},
            {"object", object}}}};
}

json podObject() {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"generateName", "web-"}}},
          {"spec", {{"containers", {{{"name", "app"}, {"image", "nginx"}}}}}}};
}

std::string decode64(const std::string& in) { return common::base64Decode(in).value_or(""); }

TEST(AdmissionTest, PodGetsABase64JsonPatchAndTheUidBack) {
  InjectorMetrics metrics;
  AdmissionAnswer a = review(reviewOf(podObject()).dump(), Scope::kNamespaceEnabled, {}, metrics);
  ASSERT_EQ(a.http_status, 200);
  json r = json::parse(a.body);
  EXPECT_EQ(r["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(r["response"]["uid"], "0df28fbd-5f5f-11e8-bc74-36e6bb280816");
  EXPECT_EQ(r["response"]["allowed"], true);
  EXPECT_EQ(r["response"]["patchType"], "JSONPatch");
  json patch = json::parse(decode64(r["response"]["patch"].get<std::string>()));
  json pod = podObject().patch(patch);
  EXPECT_EQ(pod["spec"]["initContainers"][1]["name"], "weft-proxy");
  EXPECT_NE(metrics.render().find("weft_injector_injections_total 1"), std::string::npos);
}

TEST(AdmissionTest, MalformedReviewsAre400WithAReason) {
  InjectorMetrics metrics;
  json wrong_version = reviewOf(podObject());
  wrong_version["apiVersion"] = "admission.k8s.io/v1beta1";
  json no_object = reviewOf(podObject());
  no_object["request"].erase("object");
  json no_uid = reviewOf(podObject());
  no_uid["request"].erase("uid");
  std::vector<std::pair<std::string, std::string>> cases = {
      {"not json {", "not JSON"},
      {R"({"kind":"Pod"})", "not an AdmissionReview"},
      {wrong_version.dump(), "admission.k8s.io/v1beta1"},
      {R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"})", "no request"},
      {no_object.dump(), "request.object"},
      {no_uid.dump(), "request.uid"},
  };
  for (const auto& [body, reason] : cases) {
    AdmissionAnswer a = review(body, Scope::kNamespaceEnabled, {}, metrics);
    EXPECT_EQ(a.http_status, 400) << body;
    EXPECT_NE(a.body.find(reason), std::string::npos) << a.body;
  }
  EXPECT_NE(metrics.render().find("weft_injector_errors_total{reason=\"bad_request\"} 6"),
            std::string::npos);
}

TEST(AdmissionTest, NonPodsAreAllowedUntouched) {
  InjectorMetrics metrics;
  json deployment = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}};
  AdmissionAnswer a = review(
      reviewOf(deployment, {{"group", "apps"}, {"version", "v1"}, {"kind", "Deployment"}}).dump(),
      Scope::kNamespaceEnabled, {}, metrics);
  ASSERT_EQ(a.http_status, 200);
  json r = json::parse(a.body);
  EXPECT_EQ(r["response"]["allowed"], true);
  EXPECT_FALSE(r["response"].contains("patch"));
}

TEST(AdmissionTest, APodThePatchCannotApplyToIsAllowedUntouched) {
  // Shapes no API server sends (the fuzzer's finds): no spec, a spec that
  // is a string, containers that are not a list.
  for (json spec : {json(), json("Pod"), json{{"containers", "app"}}}) {
    InjectorMetrics metrics;
    json object = podObject();
    if (spec.is_null()) {
      object.erase("spec");
    } else {
      object["spec"] = spec;
    }
    AdmissionAnswer a = review(reviewOf(object).dump(), Scope::kNamespaceEnabled, {}, metrics);
    ASSERT_EQ(a.http_status, 200);
    json r = json::parse(a.body);
    EXPECT_EQ(r["response"]["allowed"], true);
    EXPECT_FALSE(r["response"].contains("patch"));
    EXPECT_NE(metrics.render().find("weft_injector_skips_total{reason=\"malformed_pod\"} 1"),
              std::string::npos)
        << spec.dump();
  }
}

TEST(AdmissionTest, BadAnnotationIsAllowedWithAWarningNamingIt) {
  InjectorMetrics metrics;
  json object = podObject();
  object["metadata"]["annotations"] = {{"weft.dev/exclude-outbound-ports", "postgres"}};
  AdmissionAnswer a = review(reviewOf(object).dump(), Scope::kNamespaceEnabled, {}, metrics);
  json r = json::parse(a.body);
  EXPECT_FALSE(r["response"].contains("patch"));
  EXPECT_NE(r["response"]["warnings"][0].get<std::string>().find(
                "weft.dev/exclude-outbound-ports: 'postgres'"),
            std::string::npos);
}

}  // namespace
}  // namespace weft::injector
