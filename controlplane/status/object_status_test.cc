#include "controlplane/status/object_status.h"

#include <gtest/gtest.h>

#include "controlplane/config/parser.h"
#include "controlplane/config/validate.h"
#include "controlplane/status/status_json.h"

namespace weft::control::status {
namespace {

const char kServices[] = R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: grpc, namespace: shop}
spec: {ports: [{name: grpc, port: 80, appProtocol: grpc}]}
)";

ConfigSet parse(const std::string& yaml) {
  ConfigSet set;
  parseYamlDocuments(std::string(kServices) + yaml, "test.yaml", set);
  validateConfig(set);
  return set;
}

std::string route(const std::string& name, const std::string& parent, const std::string& backend,
                  const std::string& extra = "") {
  return "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " +
         name + ", namespace: shop, generation: 4}\nspec:\n  parentRefs: [{group: \"\", kind: " +
         "Service, name: " + parent +
         ", port: 80}]\n  rules:\n  - backendRefs: [{name: " + backend + ", port: 80}]\n" + extra;
}

const ObjectStatus& find(const std::vector<ObjectStatus>& all, const std::string& key) {
  for (const auto& s : all) {
    if (s.subject.key() == key) return s;
  }
  ADD_FAILURE() << "no status for " << key;
  static ObjectStatus none;
  return none;
}

// type -> "status/reason" of one parent's (or the object's) conditions.
std::map<std::string, std::string> summary(const std::vector<Condition>& conditions) {
  std::map<std::string, std::string> out;
  for (const auto& c : conditions) out[c.type] = c.status + "/" + c.reason;
  return out;
}

// A proxy that holds `key` (in resources of `type`), with versions and a NACK as given.
ProxySyncStatus proxy(const std::string& node, const std::string& key, mesh::XdsType type,
                      const std::string& sent, const std::string& acked,
                      const std::string& nack = "") {
  ProxySyncStatus p;
  p.node_id = node;
  auto resources = std::make_shared<ProxyResources>();
  resources->applied[key] = type;
  p.resources = resources;
  p.sent[type] = sent;
  p.acked[type] = acked;
  p.nacked_error[type] = nack;
  return p;
}

TEST(ObjectStatusTest, RouteConditionsFollowTheSpecsReasons) {
  ConfigSet set = parse(route("good", "web", "web") + route("no-parent", "nope", "web") +
                        route("no-backend", "web", "nope") +
                        route("bad-field", "web", "web", "    name: rule-one\n"));
  auto statuses = computeObjectStatuses(set, {});
  ASSERT_EQ(statuses.size(), 4u);
  struct Want {
    std::string key, accepted, resolved;
  };
  for (const Want& want : std::vector<Want>{
           {"HTTPRoute shop/good", "True/Accepted", "True/ResolvedRefs"},
           {"HTTPRoute shop/no-parent", "False/NoMatchingParent", "Unknown/Pending"},
           {"HTTPRoute shop/no-backend", "False/UnsupportedValue", "False/BackendNotFound"},
           {"HTTPRoute shop/bad-field", "False/UnsupportedValue", "Unknown/Pending"}}) {
    const ObjectStatus& s = find(statuses, want.key);
    ASSERT_EQ(s.parents.size(), 1u) << want.key;
    auto c = summary(s.parents[0].conditions);
    EXPECT_EQ(c["Accepted"], want.accepted) << want.key;
    EXPECT_EQ(c["ResolvedRefs"], want.resolved) << want.key;
    EXPECT_EQ(s.parents[0].conditions[0].observed_generation, 4);
  }
  // The reason names the field.
  const auto& bad = find(statuses, "HTTPRoute shop/bad-field").parents[0].conditions[0];
  EXPECT_NE(bad.message.find("spec.rules[0].name"), std::string::npos) << bad.message;
  EXPECT_EQ(summary(find(statuses, "HTTPRoute shop/good").parents[0].conditions)[kRouteProgrammed],
            "False/NoProxies");
}

TEST(ObjectStatusTest, AnHttpRouteAndAGrpcRouteOnOnePortAreAListenerConflict) {
  ConfigSet set = parse(route("first", "grpc", "grpc") + R"(---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: second, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: grpc, port: 80}]
  rules: [{backendRefs: [{name: grpc, port: 80}]}]
)");
  auto statuses = computeObjectStatuses(set, {});
  auto loser = find(statuses, "GRPCRoute shop/second");
  auto winner = find(statuses, "HTTPRoute shop/first");
  ASSERT_EQ(loser.parents.size(), 1u);
  EXPECT_EQ(summary(loser.parents[0].conditions)["Accepted"], "False/NotAllowedByListeners");
  EXPECT_EQ(summary(winner.parents[0].conditions)["Accepted"], "True/Accepted");
}

TEST(ObjectStatusTest, ProgrammedCountsTheProxiesThatShouldHaveIt) {
  ConfigSet set = parse(route("good", "web", "web"));
  const std::string key = "HTTPRoute shop/good";
  auto programmedOf = [&](std::vector<ProxySyncStatus> proxies) {
    auto statuses = computeObjectStatuses(set, proxies);
    for (const auto& c : statuses[0].parents[0].conditions) {
      if (c.type == kRouteProgrammed) return c.status + "/" + c.reason + ": " + c.message;
    }
    return std::string("none");
  };
  ProxySyncStatus other;  // holds nothing of it: not counted
  other.resources = std::make_shared<ProxyResources>();
  EXPECT_EQ(
      programmedOf({proxy("a", key, kRds, "v2", "v2"), proxy("b", key, kRds, "v2", "v2"), other}),
      "True/Programmed: 2 of 2 proxies have ACKed it");
  EXPECT_EQ(programmedOf({proxy("a", key, kRds, "v2", "v2"), proxy("b", key, kRds, "v2", "v1")}),
            "False/Pending: 1 of 2 proxies have ACKed it");
  std::string nacked =
      programmedOf({proxy("a", key, kRds, "v2", "v2"),
                    proxy("b", key, kRds, "v2", "v1", "routes[0]: regex too large")});
  EXPECT_EQ(nacked.rfind("False/Nacked: 1 of 2 proxies rejected", 0), 0u) << nacked;
  EXPECT_NE(nacked.find("b: routes[0]: regex too large"), std::string::npos) << nacked;
  // A NACK of another type does not count against a route.
  EXPECT_EQ(programmedOf({proxy("a", key, kRds, "v2", "v2")}),
            "True/Programmed: 1 of 1 proxies have ACKed it");
}

TEST(ObjectStatusTest, WeftKindsGetConditionsAndAnInvalidVersionSaysTheLastOneServes) {
  ConfigSet set = parse(R"(---
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: web, namespace: shop}
spec: {targetRef: {name: web}, loadBalancer: FASTEST}
)");
  auto statuses =
      computeObjectStatuses(set, {proxy("a", "DestinationPolicy shop/web", kCds, "v1", "v1")});
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_FALSE(statuses[0].route);
  auto c = summary(statuses[0].conditions);
  EXPECT_EQ(c["Accepted"], "False/Invalid");
  EXPECT_EQ(c["Programmed"], "False/Invalid");
  EXPECT_NE(
      statuses[0].conditions[1].message.find("1 of 1 proxies have ACKed its last valid version"),
      std::string::npos)
      << statuses[0].conditions[1].message;
}

TEST(ObjectStatusTest, TransitionTimesStayWhileTheStatusStays) {
  ConfigSet set = parse(route("good", "web", "web"));
  StatusTracker tracker;
  auto first = computeObjectStatuses(set, {});
  tracker.stamp(first, "2026-01-01T00:00:00Z");
  auto second = computeObjectStatuses(set, {});
  tracker.stamp(second, "2026-01-01T00:01:00Z");
  EXPECT_EQ(second[0].parents[0].conditions[0].last_transition_time, "2026-01-01T00:00:00Z");
  auto programmed = computeObjectStatuses(set, {proxy("a", "HTTPRoute shop/good", kRds, "v", "v")});
  tracker.stamp(programmed, "2026-01-01T00:02:00Z");
  EXPECT_EQ(programmed[0].parents[0].conditions[2].last_transition_time, "2026-01-01T00:02:00Z");
  EXPECT_EQ(programmed[0].parents[0].conditions[0].last_transition_time, "2026-01-01T00:00:00Z");
}

TEST(ObjectStatusTest, OtherControllersEntriesAreKeptAndAnUpToDateObjectIsLeftAlone) {
  ConfigSet set = parse(route("good", "web", "web"));
  set.status_subjects[0].status_json =
      R"({"parents": [{"controllerName": "example.com/gateway", "parentRef": {"name": "gw"},
          "conditions": []}]})";
  auto statuses = computeObjectStatuses(set, {});
  StatusTracker().stamp(statuses, "2026-01-01T00:00:00Z");
  nlohmann::json desired = desiredStatus(statuses[0]);
  ASSERT_EQ(desired["parents"].size(), 2u);
  EXPECT_EQ(desired["parents"][0]["controllerName"], "example.com/gateway");
  EXPECT_EQ(desired["parents"][1]["controllerName"], kControllerName);
  EXPECT_EQ(
      desired["parents"][1]["parentRef"],
      nlohmann::json::parse(R"({"group": "", "kind": "Service", "name": "web", "port": 80})"));
  EXPECT_FALSE(upToDate(statuses[0]));
  // Once written, the object carries it: no second write; and a restarted
  // weft-control keeps the transition times the object shows.
  set.status_subjects[0].status_json = desired.dump();
  auto again = computeObjectStatuses(set, {});
  StatusTracker().stamp(again, "2026-06-01T00:00:00Z");
  EXPECT_TRUE(upToDate(again[0]));
}

}  // namespace
}  // namespace weft::control::status
