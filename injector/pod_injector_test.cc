#include "injector/pod_injector.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "injector/eligibility.h"
#include "mesh/app_probes.h"

namespace weft::injector {
namespace {

using json = nlohmann::json;

json pod(json annotations = nullptr, json spec_extra = json::object()) {
  json p = {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
            {"spec", {{"containers", {{{"name", "app"}, {"image", "nginx"}}}}}}};
  if (!annotations.is_null()) p["metadata"]["annotations"] = annotations;
  p["spec"].update(spec_extra);
  return p;
}

json injected(const json& p, InjectorConfig config = {}, PodSource source = {},
              Scope scope = Scope::kNamespaceEnabled) {
  json patch;
  Injection result = injectPod(p, scope, source, config, &patch);
  EXPECT_EQ(result.skip_reason, "");
  EXPECT_EQ(result.error, "");
  return p.patch(patch);
}

std::string skipReasonOf(const json& p, Scope scope = Scope::kNamespaceEnabled) {
  json patch;
  return injectPod(p, scope, {}, InjectorConfig{}, &patch).skip_reason;
}

const json& named(const json& list, const std::string& name) {
  for (const auto& c : list) {
    if (c["name"] == name) return c;
  }
  static const json kNone;
  ADD_FAILURE() << "no " << name << " in " << list.dump();
  return kNone;
}

std::map<std::string, std::string> proxyEnv(const json& out) {
  std::map<std::string, std::string> env;
  for (const auto& e : named(out["spec"]["initContainers"], "weft-proxy")["env"]) {
    if (e.contains("value")) env[e["name"]] = e["value"];
  }
  return env;
}

TEST(PodInjectorTest, TheProxyLearnsWhoTheWorkloadIs) {
  // A Deployment's pod: owned by ReplicaSet reviews-v2-5d4f7b, pod-template-hash 5d4f7b.
  json p = pod();
  p["metadata"].erase("name");
  p["metadata"]["generateName"] = "reviews-v2-5d4f7b-";
  p["metadata"]["labels"] = {{"app", "reviews"},
                             {"version", "v2"},
                             {"pod-template-hash", "5d4f7b"},
                             {"service.istio.io/canonical-name", "reviews-svc"}};
  p["metadata"]["ownerReferences"] = {
      {{"kind", "ReplicaSet"}, {"name", "reviews-v2-5d4f7b"}, {"controller", true}}};
  auto env = proxyEnv(injected(p));
  EXPECT_EQ(env["WEFT_WORKLOAD_NAME"], "reviews-v2");
  EXPECT_EQ(env["WEFT_APP"], "reviews");
  EXPECT_EQ(env["WEFT_VERSION"], "v2");
  EXPECT_EQ(env["WEFT_CANONICAL_SERVICE"], "reviews-svc");
  EXPECT_EQ(env["WEFT_CANONICAL_REVISION"], "v2");

  // A StatefulSet's pod is its StatefulSet; Kubernetes' recommended labels count too.
  json s = pod();
  s["metadata"]["name"] = "db-0";
  s["metadata"]["labels"] = {{"app.kubernetes.io/name", "db"},
                             {"app.kubernetes.io/version", "15.2"}};
  s["metadata"]["ownerReferences"] = {
      {{"kind", "StatefulSet"}, {"name", "db"}, {"controller", true}}};
  env = proxyEnv(injected(s));
  EXPECT_EQ(env["WEFT_WORKLOAD_NAME"], "db");
  EXPECT_EQ(env["WEFT_APP"], "db");
  EXPECT_EQ(env["WEFT_CANONICAL_REVISION"], "15.2");

  // A bare pod is itself; a label value Kubernetes would refuse is left out.
  json bare = pod();
  bare["metadata"]["labels"] = {{"version", "not a value"}};
  env = proxyEnv(injected(bare));
  EXPECT_EQ(env["WEFT_WORKLOAD_NAME"], "web");
  EXPECT_EQ(env.count("WEFT_VERSION"), 0u);
}

TEST(PodInjectorTest, NativeSidecarGoesAfterInitAndBeforeExistingInitContainers) {
  json out = injected(pod(nullptr, {{"initContainers", {{{"name", "migrate"}}}}}));
  const json& init = out["spec"]["initContainers"];
  ASSERT_EQ(init.size(), 3u);
  EXPECT_EQ(init[0]["name"], "weft-init");
  EXPECT_EQ(init[1]["name"], "weft-proxy");
  EXPECT_EQ(init[1]["restartPolicy"], "Always");
  EXPECT_EQ(init[2]["name"], "migrate");
  EXPECT_EQ(out["spec"]["containers"].size(), 1u);
  EXPECT_EQ(init[1]["startupProbe"]["httpGet"]["path"], "/ready");
  EXPECT_EQ(init[1]["startupProbe"]["httpGet"]["port"], 15020);
}

TEST(PodInjectorTest, SecurityContextsGiveCapabilitiesOnlyToInit) {
  json out = injected(pod());
  const json& init = named(out["spec"]["initContainers"], "weft-init");
  const json& proxy = named(out["spec"]["initContainers"], "weft-proxy");
  EXPECT_EQ(init["securityContext"]["capabilities"]["add"], json({"NET_ADMIN", "NET_RAW"}));
  EXPECT_EQ(proxy["securityContext"]["capabilities"], json({{"drop", {"ALL"}}}));
  EXPECT_EQ(proxy["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(proxy["securityContext"]["runAsUser"], 1337);
  EXPECT_EQ(proxy["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(init["args"][2], "1337");  // --proxy-uid: the proxy's traffic is not redirected
}

TEST(PodInjectorTest, ExclusionAnnotationsReachTheInitArguments) {
  json out = injected(pod({{"weft.dev/exclude-outbound-ports", "5432, 6379"},
                           {"weft.dev/exclude-inbound-ports", "9090"},
                           {"weft.dev/exclude-outbound-cidrs", "10.0.0.0/8,169.254.169.254/32"}}));
  json args = named(out["spec"]["initContainers"], "weft-init")["args"];
  auto after = [&](const std::string& flag) -> std::string {
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == flag) return args[i + 1];
    }
    return "";
  };
  EXPECT_EQ(after("--exclude-outbound-ports"), "5432,6379");
  EXPECT_EQ(after("--exclude-inbound-ports"), "9090,15020");
  EXPECT_EQ(after("--exclude-outbound-cidrs"), "10.0.0.0/8,169.254.169.254/32");
}

TEST(PodInjectorTest, BadAnnotationLeavesThePodAloneAndSaysWhy) {
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"weft.dev/exclude-outbound-ports", "http"},
           {"weft.dev/exclude-inbound-ports", "70000"},
           {"weft.dev/exclude-outbound-cidrs", "10.0.0.0/33"},
           {"weft.dev/proxy-cpu", "lots"}}) {
    json patch;
    Injection result = injectPod(pod({{key, value}}), Scope::kNamespaceEnabled, {}, {}, &patch);
    EXPECT_EQ(result.skip_reason, "invalid_annotation") << key;
    EXPECT_NE(result.error.find(key), std::string::npos) << result.error;
    EXPECT_NE(result.error.find(value), std::string::npos) << result.error;
  }
}

TEST(PodInjectorTest, ResourceAnnotationsOverrideTheConfig) {
  json out = injected(pod({{"weft.dev/proxy-cpu", "250m"},
                           {"weft.dev/proxy-memory", "256Mi"},
                           {"weft.dev/proxy-memory-limit", "512Mi"}}));
  const json& res = named(out["spec"]["initContainers"], "weft-proxy")["resources"];
  EXPECT_EQ(res["requests"]["cpu"], "250m");
  EXPECT_EQ(res["requests"]["memory"], "256Mi");
  EXPECT_EQ(res["limits"]["memory"], "512Mi");
  // A request set by annotation drops the default limit (it could be lower).
  EXPECT_FALSE(res["limits"].contains("cpu"));
}

TEST(PodInjectorTest, DecisionTable) {
  EXPECT_EQ(skipReasonOf(pod()), "");
  EXPECT_EQ(skipReasonOf(pod({{"weft.dev/inject", "false"}})), "opted_out");
  EXPECT_EQ(skipReasonOf(pod(), Scope::kOptInOnly), "not_opted_in");
  EXPECT_EQ(skipReasonOf(pod({{"weft.dev/inject", "true"}}), Scope::kOptInOnly), "");
  EXPECT_EQ(skipReasonOf(pod({{"weft.dev/inject", "false"}}), Scope::kOptInOnly), "opted_out");
  EXPECT_EQ(skipReasonOf(pod(nullptr, {{"hostNetwork", true}})), "host_network");
  EXPECT_EQ(skipReasonOf(pod(nullptr, {{"hostNetwork", false}})), "");
  EXPECT_EQ(skipReasonOf(pod({{"weft.dev/status", "{}"}})), "already_injected");
  EXPECT_EQ(skipReasonOf(pod(nullptr, {{"containers", {{{"name", "weft-proxy"}}}}})),
            "name_conflict");
}

TEST(PodInjectorTest, InjectingTwiceChangesNothing) {
  json once = injected(pod({{"team", "a"}}, {{"volumes", {{{"name", "data"}}}}}));
  EXPECT_EQ(skipReasonOf(once), "already_injected");
  EXPECT_EQ(once["metadata"]["annotations"]["team"], "a");
  ASSERT_EQ(once["spec"]["volumes"].size(), 4u);
  EXPECT_EQ(once["spec"]["volumes"][0]["name"], "data");
  json status = json::parse(once["metadata"]["annotations"]["weft.dev/status"].get<std::string>());
  EXPECT_EQ(status["version"], kVersion);
  EXPECT_EQ(status["sidecar"], "native");
}

TEST(PodInjectorTest, AppOwnPrometheusAnnotationsAreKept) {
  json out = injected(pod({{"prometheus.io/port", "9102"}}));
  EXPECT_EQ(out["metadata"]["annotations"]["prometheus.io/port"], "9102");
  EXPECT_EQ(out["metadata"]["annotations"]["prometheus.io/scrape"], "true");
}

TEST(PodInjectorTest, RegularContainerFallbackGoesFirstAndWaitsForReady) {
  InjectorConfig config;
  config.native_sidecar = false;
  json out = injected(pod(), config);
  const json& containers = out["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0]["name"], "weft-proxy");
  EXPECT_FALSE(containers[0].contains("restartPolicy"));
  EXPECT_EQ(containers[0]["lifecycle"]["postStart"]["exec"]["command"][1], "wait");
  EXPECT_EQ(out["spec"]["initContainers"].size(), 1u);
  EXPECT_FALSE(out["spec"].contains("shareProcessNamespace"));
}

TEST(PodInjectorTest, JobPodsEndTheProxyWithTheApp) {
  PodSource job;
  job.runs_to_completion = true;
  InjectorConfig fallback;
  fallback.native_sidecar = false;
  json out = injected(pod(), fallback, job);
  EXPECT_EQ(out["spec"]["shareProcessNamespace"], true);
  bool exit_with_app = false;
  for (const auto& env : out["spec"]["containers"][0]["env"]) {
    if (env["name"] == "WEFT_EXIT_WITH_APP") exit_with_app = env["value"] == "true";
  }
  EXPECT_TRUE(exit_with_app);
  // A native sidecar ends with the app by itself.
  json native = injected(pod(), InjectorConfig{}, job);
  EXPECT_FALSE(native["spec"].contains("shareProcessNamespace"));
}

json probedPod() {
  json p = pod();
  json& app = p["spec"]["containers"][0];
  app["ports"] = {{{"name", "http"}, {"containerPort", 8080}}};
  app["readinessProbe"] = {{"httpGet",
                            {{"path", "healthz"},
                             {"port", "http"},
                             {"httpHeaders", {{{"name", "X-Probe"}, {"value", "1"}}}}}},
                           {"timeoutSeconds", 3},
                           {"periodSeconds", 7}};
  app["livenessProbe"] = {{"tcpSocket", {{"port", 8080}}}, {"failureThreshold", 5}};
  app["startupProbe"] = {{"exec", {{"command", {"true"}}}}};
  p["spec"]["containers"].push_back(
      {{"name", "rpc"}, {"readinessProbe", {{"grpc", {{"port", 9090}, {"service", "cart"}}}}}});
  // The app's own native sidecar, and a regular init container (no probes allowed).
  p["spec"]["initContainers"] = {
      {{"name", "log-shipper"},
       {"restartPolicy", "Always"},
       {"livenessProbe", {{"httpGet", {{"path", "/live"}, {"port", 2020}}}}}},
      {{"name", "migrate"}}};
  return p;
}

TEST(PodInjectorTest, AppProbesMoveToTheStatusPortAndTheProxyPerformsThem) {
  for (bool native : {true, false}) {
    InjectorConfig config;
    config.native_sidecar = native;
    json out = injected(probedPod(), config);
    const json& app = named(out["spec"]["containers"], "app");
    json expected_readiness = {
        {"httpGet", {{"path", "/app-health/app/readiness"}, {"port", 15020}, {"scheme", "HTTP"}}},
        {"timeoutSeconds", 3},
        {"periodSeconds", 7}};
    EXPECT_EQ(app["readinessProbe"], expected_readiness) << native;
    EXPECT_EQ(app["livenessProbe"]["httpGet"]["path"], "/app-health/app/liveness");
    EXPECT_EQ(app["livenessProbe"]["failureThreshold"], 5);  // the rest of the probe is kept
    EXPECT_FALSE(app["livenessProbe"].contains("tcpSocket"));
    EXPECT_TRUE(app["startupProbe"].contains("exec"));  // exec needs no network
    EXPECT_EQ(named(out["spec"]["containers"], "rpc")["readinessProbe"]["httpGet"]["path"],
              "/app-health/rpc/readiness");
    EXPECT_EQ(
        named(out["spec"]["initContainers"], "log-shipper")["livenessProbe"]["httpGet"]["port"],
        15020);

    std::map<std::string, std::string> env;
    const json& list = native ? out["spec"]["initContainers"] : out["spec"]["containers"];
    for (const auto& e : named(list, "weft-proxy")["env"]) {
      if (e.contains("value")) env[e["name"]] = e["value"];
    }
    mesh::AppProbes probes;
    std::string error;
    ASSERT_TRUE(mesh::parseAppProbes(env["WEFT_APP_PROBES"], &probes, &error)) << error;
    ASSERT_EQ(probes.size(), 4u) << env["WEFT_APP_PROBES"];
    const mesh::AppProbe& readiness = probes.at("/app-health/app/readiness");
    EXPECT_EQ(readiness.port, 8080);  // the named port, resolved
    EXPECT_EQ(readiness.path, "/healthz");
    EXPECT_EQ(readiness.timeout_seconds, 3u);
    ASSERT_EQ(readiness.headers.size(), 1u);
    EXPECT_EQ(readiness.headers[0].first, "X-Probe");
    EXPECT_EQ(probes.at("/app-health/app/liveness").kind, mesh::AppProbe::Kind::kTcpSocket);
    EXPECT_EQ(probes.at("/app-health/rpc/readiness").kind, mesh::AppProbe::Kind::kGrpc);
    EXPECT_EQ(probes.at("/app-health/rpc/readiness").grpc_service, "cart");
    EXPECT_EQ(probes.at("/app-health/log-shipper/liveness").port, 2020);
  }
}

TEST(PodInjectorTest, ProbesStayWhenThePodOptsOutOrCannotBeRewritten) {
  json opted = probedPod();
  opted["metadata"]["annotations"] = {{"weft.dev/rewrite-app-probes", "false"}};
  json out = injected(opted);
  EXPECT_EQ(named(out["spec"]["containers"], "app")["readinessProbe"],
            probedPod()["spec"]["containers"][0]["readinessProbe"]);
  EXPECT_EQ(proxyEnv(out).count("WEFT_APP_PROBES"), 0u);

  InjectorConfig off;
  off.rewrite_app_probes = false;
  EXPECT_EQ(proxyEnv(injected(probedPod(), off)).count("WEFT_APP_PROBES"), 0u);

  // Another host, an unknown named port, the status port itself: left alone.
  json odd = pod();
  json& app = odd["spec"]["containers"][0];
  app["readinessProbe"] = {{"httpGet", {{"host", "10.1.2.3"}, {"port", 80}}}};
  app["livenessProbe"] = {{"tcpSocket", {{"port", "nope"}}}};
  app["startupProbe"] = {{"httpGet", {{"path", "/ready"}, {"port", 15020}}}};
  json odd_out = injected(odd);
  EXPECT_EQ(odd_out["spec"]["containers"][0], odd["spec"]["containers"][0]);

  json bad = probedPod();
  bad["metadata"]["annotations"] = {{"weft.dev/rewrite-app-probes", "no"}};
  json patch;
  Injection result = injectPod(bad, Scope::kNamespaceEnabled, {}, InjectorConfig{}, &patch);
  EXPECT_EQ(result.skip_reason, "invalid_annotation");
  EXPECT_NE(result.error.find("weft.dev/rewrite-app-probes: 'no'"), std::string::npos)
      << result.error;
}

TEST(PodInjectorTest, OwnedByJob) {
  json p = pod();
  EXPECT_FALSE(ownedByJob(p));
  p["metadata"]["ownerReferences"] = {{{"kind", "Job"}, {"name", "backup"}}};
  EXPECT_TRUE(ownedByJob(p));
}

}  // namespace
}  // namespace weft::injector
