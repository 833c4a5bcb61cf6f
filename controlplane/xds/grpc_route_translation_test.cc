// GRPCRoute -> Envoy routes: method matches as paths (checked against real
// gRPC paths with RE2, as the proxy matches them), the GRPCRoute precedence,
// filters, rules without backends, and the HTTPRoute/GRPCRoute conflict rule.

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <string>
#include <vector>

#include "controlplane/config/parser.h"
#include "controlplane/config/validate.h"
#include "controlplane/xds/http_route_translation.h"
#include "controlplane/xds/route_test_support.h"

namespace weft::control {
namespace {

namespace route_v3 = envoy::config::route::v3;

const char kServices[] = R"(
apiVersion: v1
kind: Service
metadata: {name: greeter, namespace: shop}
spec: {ports: [{name: grpc, port: 50051}, {name: grpc-admin, port: 50052}]}
---
apiVersion: v1
kind: Service
metadata: {name: greeter-v2, namespace: shop}
spec: {ports: [{name: grpc, port: 50051}]}
---
apiVersion: v1
kind: Service
metadata: {name: greeter-shadow, namespace: shop}
spec: {ports: [{name: grpc, port: 50051}]}
)";

const char kV1[] = "outbound|50051||greeter.shop.svc.cluster.local";
const char kV2[] = "outbound|50051||greeter-v2.shop.svc.cluster.local";

ConfigSet loadWithErrors(const std::string& yaml) {
  return testing::loadWithErrors(kServices + yaml);
}

ConfigSet load(const std::string& yaml) { return testing::loadValid(kServices + yaml); }

std::vector<route_v3::Route> routesOf(const ConfigSet& set, uint16_t port = 50051) {
  return testing::routesOfPort(set, "shop", "greeter", port);
}

std::string grpcRoute(const std::string& name, const std::string& match, const std::string& backend,
                      const std::string& extra_meta = "", const std::string& hostnames = "") {
  return "\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: " +
         name + ", namespace: shop" + extra_meta +
         "}\nspec:\n  parentRefs: [{kind: Service, name: greeter}]\n" +
         (hostnames.empty() ? "" : "  hostnames: " + hostnames + "\n") +
         "  rules:\n  - matches: [" + match + "]\n    backendRefs: [{name: " + backend +
         ", port: 50051}]\n";
}

std::string httpRoute(const std::string& name, const std::string& extra_meta,
                      const std::string& hostnames = "") {
  return "\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " +
         name + ", namespace: shop" + extra_meta +
         "}\nspec:\n  parentRefs: [{kind: Service, name: greeter, port: 50051}]\n" +
         (hostnames.empty() ? "" : "  hostnames: " + hostnames + "\n") +
         "  rules:\n  - backendRefs: [{name: greeter-v2, port: 50051}]\n";
}

// Whether `route`'s path match takes the gRPC path `path` (as the proxy
// matches: path exactly, prefix, or the regex over the whole path).
bool takes(const route_v3::Route& route, const std::string& path) {
  const auto& m = route.match();
  if (m.has_safe_regex()) return RE2::FullMatch(path, RE2(m.safe_regex().regex()));
  if (!m.path().empty()) return m.path() == path;
  return path.rfind(m.prefix(), 0) == 0;
}

TEST(GrpcRouteTranslationTest, MethodMatchesBecomePathMatches) {
  struct Case {
    const char* method;
    std::vector<std::string> taken, refused;
  } cases[] = {
      {"{service: pkg.v1.Greeter, method: SayHello}",
       {"/pkg.v1.Greeter/SayHello"},
       {"/pkg.v1.Greeter/SayHelloAgain", "/pkg.v1.Greeter/Other", "/pkg.v1.GreeterX/SayHello"}},
      {"{service: pkg.v1.Greeter}",
       {"/pkg.v1.Greeter/SayHello", "/pkg.v1.Greeter/Other"},
       {"/pkg.v1.GreeterX/SayHello", "/pkg.v1/Greeter"}},
      {"{method: SayHello}",
       {"/pkg.v1.Greeter/SayHello", "/other.Svc/SayHello"},
       {"/pkg.v1.Greeter/SayHelloAgain", "/pkg.v1xGreeter/Other", "/SayHello"}},
      // Exact values are literal: the dots of a service are not "any character".
      {"{service: a.B, method: M}", {"/a.B/M"}, {"/axB/M"}},
      {"{type: RegularExpression, service: \"pkg\\\\.v[0-9]+\\\\.Greeter\", method: \"Say.*\"}",
       {"/pkg.v1.Greeter/SayHello", "/pkg.v22.Greeter/Say"},
       {"/pkg.v1.Greeter/Other", "/pkg.vx.Greeter/SayHello"}},
      {"{type: RegularExpression, method: \"(Get|List)Thing\"}",
       {"/any.Svc/GetThing", "/x/ListThing"},
       {"/any.Svc/DeleteThing", "/any.Svc/GetThings"}},
  };
  for (const auto& c : cases) {
    ConfigSet set = load(grpcRoute("r", std::string("{method: ") + c.method + "}", "greeter-v2"));
    auto routes = routesOf(set);
    ASSERT_EQ(routes.size(), 1u) << c.method;
    for (const auto& path : c.taken) EXPECT_TRUE(takes(routes[0], path)) << c.method << " " << path;
    for (const auto& path : c.refused) {
      EXPECT_FALSE(takes(routes[0], path)) << c.method << " " << path;
    }
    EXPECT_EQ(routes[0].route().cluster(), kV2);
  }
  // No method: every call.
  auto routes =
      routesOf(load(grpcRoute("r", "{headers: [{name: x-v, value: \"2\"}]}", "greeter-v2")));
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].match().prefix(), "/");
  ASSERT_EQ(routes[0].match().headers_size(), 1);
  EXPECT_EQ(routes[0].match().headers(0).name(), "x-v");
}

// GRPCRouteRule's precedence: non-wildcard hostname characters, hostname
// characters, service characters, method characters, header matches; then
// the oldest route, namespace/name, rule order.
TEST(GrpcRouteTranslationTest, GatewayApiPrecedence) {
  const std::string t1 = ", creationTimestamp: \"2026-01-01T00:00:00Z\"";
  const std::string t2 = ", creationTimestamp: \"2026-06-01T00:00:00Z\"";
  struct Case {
    const char* criterion;
    std::string first, second;  // first goes to greeter, second to greeter-v2
  } cases[] = {
      {"an exact hostname beats a longer wildcard",
       grpcRoute("b", "{}", "greeter", "", "[greeter.shop]"),
       grpcRoute("a", "{}", "greeter-v2", "", "[\"*.shop.svc.cluster.local\"]")},
      {"a hostname beats a service", grpcRoute("b", "{}", "greeter", "", "[\"*.local\"]"),
       grpcRoute("a", "{method: {service: pkg.v1.Greeter}}", "greeter-v2")},
      {"the longer service", grpcRoute("b", "{method: {service: pkg.v1.Greeter}}", "greeter"),
       grpcRoute("a", "{method: {service: pkg.v1.G, method: SayHello}}", "greeter-v2")},
      {"then the longer method",
       grpcRoute("b", "{method: {service: pkg.v1.Greeter, method: SayHello}}", "greeter"),
       grpcRoute("a", "{method: {service: pkg.v1.Greeter}}", "greeter-v2")},
      {"a method beats header matches", grpcRoute("b", "{method: {method: M}}", "greeter"),
       grpcRoute("a", "{headers: [{name: x-a, value: \"1\"}, {name: x-b, value: \"2\"}]}",
                 "greeter-v2")},
      {"more header matches",
       grpcRoute("b", "{headers: [{name: x-a, value: \"1\"}, {name: x-b, value: \"2\"}]}",
                 "greeter"),
       grpcRoute("a", "{headers: [{name: x-a, value: \"1\"}]}", "greeter-v2")},
      {"the older route", grpcRoute("z", "{}", "greeter", t1),
       grpcRoute("a", "{}", "greeter-v2", t2)},
      {"then namespace/name", grpcRoute("a", "{}", "greeter", t1),
       grpcRoute("b", "{}", "greeter-v2", t1)},
  };
  for (const auto& c : cases) {
    for (bool swapped : {false, true}) {
      ConfigSet set = load(swapped ? c.second + c.first : c.first + c.second);
      auto routes = routesOf(set);
      ASSERT_EQ(routes.size(), 2u) << c.criterion;
      EXPECT_EQ(routes[0].route().cluster(), kV1) << c.criterion << (swapped ? " (swapped)" : "");
      EXPECT_EQ(routes[1].route().cluster(), kV2) << c.criterion;
    }
  }
}

TEST(GrpcRouteTranslationTest, FiltersSplitsAndRulesWithoutBackends) {
  ConfigSet set = load(R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: greeter, namespace: shop}
spec:
  parentRefs: [{kind: Service, name: greeter, sectionName: grpc}]
  rules:
  - matches: [{method: {service: pkg.v1.Greeter, method: Retired}}]
  - matches: [{method: {service: pkg.v1.Greeter}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-route, value: greeter}]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-served-by, value: mesh}]}
    - type: RequestMirror
      requestMirror: {backendRef: {name: greeter-shadow, port: 50051}, percent: 25}
    backendRefs:
    - {name: greeter, port: 50051, weight: 80}
    - name: greeter-v2
      port: 50051
      weight: 20
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {add: [{name: x-canary, value: "1"}]}
)");
  EXPECT_TRUE(routesOf(set, 50052).empty());  // sectionName: the grpc port only
  auto routes = routesOf(set);
  ASSERT_EQ(routes.size(), 2u);
  // The longer method first; without backends: UNAVAILABLE (a 503 the proxy
  // answers as grpc-status 14).
  EXPECT_EQ(routes[0].match().path(), "/pkg.v1.Greeter/Retired");
  EXPECT_EQ(routes[0].direct_response().status(), 503u);
  const auto& split = routes[1];
  EXPECT_EQ(split.match().prefix(), "/pkg.v1.Greeter/");
  ASSERT_EQ(split.request_headers_to_add_size(), 1);
  EXPECT_EQ(split.request_headers_to_add(0).header().key(), "x-route");
  ASSERT_EQ(split.response_headers_to_add_size(), 1);
  EXPECT_EQ(split.response_headers_to_add(0).header().key(), "x-served-by");
  const auto& clusters = split.route().weighted_clusters().clusters();
  ASSERT_EQ(clusters.size(), 2);
  EXPECT_EQ(clusters[0].name(), kV1);
  EXPECT_EQ(clusters[0].weight().value(), 80u);
  EXPECT_EQ(clusters[1].name(), kV2);
  ASSERT_EQ(clusters[1].request_headers_to_add_size(), 1);
  EXPECT_EQ(clusters[1].request_headers_to_add(0).header().key(), "x-canary");
  ASSERT_EQ(split.route().request_mirror_policies_size(), 1);
  EXPECT_EQ(split.route().request_mirror_policies(0).cluster(),
            "outbound|50051||greeter-shadow.shop.svc.cluster.local");
  EXPECT_EQ(split.route().request_mirror_policies(0).runtime_fraction().default_value().numerator(),
            250000u);
}

TEST(GrpcRouteTranslationTest, TheOlderOfAnHttpRouteAndAGrpcRouteOnOnePortIsAccepted) {
  const std::string t1 = ", creationTimestamp: \"2026-01-01T00:00:00Z\"";
  const std::string t2 = ", creationTimestamp: \"2026-06-01T00:00:00Z\"";
  // The GRPCRoute is younger: the HTTPRoute alone serves port 50051, and
  // the GRPCRoute's parent is reported as not accepted there.
  ConfigSet set = loadWithErrors(grpcRoute("rpc", "{}", "greeter", t2) + httpRoute("web", t1));
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].object, "GRPCRoute shop/rpc");
  EXPECT_EQ(set.errors[0].field, "spec.parentRefs[0]");
  EXPECT_NE(set.errors[0].message.find("HTTPRoute shop/web, older"), std::string::npos)
      << set.errors[0].message;
  auto routes = routesOf(set);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].name(), "shop/web");
  // It keeps the port the HTTPRoute does not use.
  EXPECT_EQ(routesOf(set, 50052).size(), 1u);

  // Older, the GRPCRoute wins instead.
  set = loadWithErrors(grpcRoute("rpc", "{}", "greeter", t1) + httpRoute("web", t2));
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].object, "HTTPRoute shop/web");
  routes = routesOf(set);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].name(), "shop/rpc");

  // Hostnames that cannot meet: both serve, no error.
  set = loadWithErrors(grpcRoute("rpc", "{}", "greeter", t2, "[rpc.example.com]") +
                       httpRoute("web", t1, "[\"*.web.example.com\"]"));
  EXPECT_TRUE(set.errors.empty());
  EXPECT_EQ(routesOf(set).size(), 2u);

  // A route that lost takes nothing from a younger one: HTTPRoute a (oldest)
  // beats GRPCRoute b on any host; b then cannot beat HTTPRoute c.
  set = loadWithErrors(
      httpRoute("a", t1, "[a.example.com]") + grpcRoute("b", "{}", "greeter", t2) +
      httpRoute("c", ", creationTimestamp: \"2026-09-01T00:00:00Z\"", "[c.example.com]"));
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].object, "GRPCRoute shop/b");
  EXPECT_EQ(routesOf(set).size(), 2u);
}

TEST(GrpcRouteTranslationTest, KeepingALastValidVersionRecomputesConflicts) {
  const std::string t1 = ", creationTimestamp: \"2026-01-01T00:00:00Z\"";
  const std::string t2 = ", creationTimestamp: \"2026-06-01T00:00:00Z\"";
  ConfigSet previous = load(httpRoute("web", t1));
  // The HTTPRoute's edit is invalid: its last valid version comes back, and
  // being older it still wins over the GRPCRoute created meanwhile.
  ConfigSet set;
  parseYamlDocuments(std::string(kServices) + grpcRoute("rpc", "{}", "greeter", t2) +
                         "\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
                         "metadata: {name: web, namespace: shop" +
                         t1 + "}\nspec:\n  parentRefs: [{kind: Service, name: nowhere}]\n",
                     "routes.yaml", set);
  validateConfig(set);
  keepLastValidVersions(set, &previous);
  ASSERT_EQ(set.errors.size(), 2u);
  EXPECT_EQ(set.errors[0].object, "HTTPRoute shop/web");
  EXPECT_NE(set.errors[0].message.find("keeping its last valid version"), std::string::npos);
  EXPECT_EQ(set.errors[1].object, "GRPCRoute shop/rpc");
  EXPECT_TRUE(set.errors[1].route_conflict);
  auto routes = routesOf(set);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].name(), "shop/web");
}

}  // namespace
}  // namespace weft::control
