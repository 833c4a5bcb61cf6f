#include "injector/offline_injector.h"

#include <gtest/gtest.h>

#include "common/yaml/yaml_json.h"

namespace weft::injector {
namespace {

constexpr char kManifests[] = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: nginx, env: [{name: A, value: "true"}, {name: B, value: "007"}]}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        metadata: {annotations: {weft.dev/inject: "false"}}
        spec: {containers: [{name: b, image: busybox}], restartPolicy: Never}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {enabled: "yes", count: "3"}
)";

TEST(OfflineInjectorTest, InjectsTemplatesKeepsOptOutsAndOtherKinds) {
  OfflineResult result;
  std::string error;
  ASSERT_TRUE(injectManifests(kManifests, InjectorConfig{}, &result, &error)) << error;
  EXPECT_EQ(result.injected, 1);
  EXPECT_EQ(result.skipped, 1);
  std::vector<nlohmann::ordered_json> docs;
  ASSERT_TRUE(common::yamlDocumentsToJson(result.yaml, &docs, &error)) << error;
  ASSERT_EQ(docs.size(), 3u);
  const auto& spec = docs[0]["spec"]["template"]["spec"];
  EXPECT_EQ(spec["initContainers"][1]["name"], "weft-proxy");
  // Quoted scalars stay strings through the round trip.
  EXPECT_EQ(spec["containers"][0]["env"][0]["value"], "true");
  EXPECT_EQ(spec["containers"][0]["env"][1]["value"], "007");
  EXPECT_FALSE(
      docs[1]["spec"]["jobTemplate"]["spec"]["template"]["spec"].contains("initContainers"));
  EXPECT_EQ(docs[2]["data"]["count"], "3");
  EXPECT_EQ(docs[2]["data"]["enabled"], "yes");
}

TEST(OfflineInjectorTest, SecondRunIsIdentical) {
  OfflineResult once, twice;
  std::string error;
  ASSERT_TRUE(injectManifests(kManifests, InjectorConfig{}, &once, &error));
  ASSERT_TRUE(injectManifests(once.yaml, InjectorConfig{}, &twice, &error));
  EXPECT_EQ(once.yaml, twice.yaml);
  EXPECT_EQ(twice.injected, 0);
}

TEST(OfflineInjectorTest, BadYamlNamesTheLine) {
  OfflineResult result;
  std::string error;
  EXPECT_FALSE(
      injectManifests("kind: Pod\nmetadata: {name: [\n", InjectorConfig{}, &result, &error));
  EXPECT_NE(error.find("line "), std::string::npos) << error;
}

TEST(InjectorConfigTest, ParsesAndNamesBadKeys) {
  InjectorConfig config;
  std::string error;
  ASSERT_TRUE(parseInjectorConfig(
      "proxyImage: r/p:1\nnativeSidecar: false\nresources: {limits: {cpu: '1'}}\n"
      "excludeOutboundPorts: [25]\n",
      &config, &error))
      << error;
  EXPECT_EQ(config.proxy_image, "r/p:1");
  EXPECT_FALSE(config.native_sidecar);
  EXPECT_EQ(config.limits.cpu, "1");
  EXPECT_EQ(config.limits.memory, "1Gi");
  EXPECT_EQ(config.exclude_outbound_ports, std::vector<uint16_t>{25});
  EXPECT_FALSE(parseInjectorConfig("proxyUid: 5\n", &config, &error));
  EXPECT_EQ(error, "proxyUid: unknown key");
  EXPECT_FALSE(parseInjectorConfig("outboundPort: 99999\n", &config, &error));
  EXPECT_NE(error.find("outboundPort: '99999'"), std::string::npos) << error;
  EXPECT_FALSE(parseInjectorConfig("nativeSidecar: maybe\n", &config, &error));
  EXPECT_NE(error.find("nativeSidecar"), std::string::npos) << error;
}

}  // namespace
}  // namespace weft::injector
