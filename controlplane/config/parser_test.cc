#include "controlplane/config/parser.h"

#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "controlplane/config/validate.h"
#include "controlplane/config/yaml_fields.h"

namespace weft::control {
namespace {

ConfigSet parse(const std::string& yaml) {
  ConfigSet set;
  parseYamlDocuments(yaml, "test.yaml", set);
  validateConfig(set);
  return set;
}

const char kServices[] = R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-canary, namespace: shop}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
)";

TEST(ParserTest, ReadsKubernetesKinds) {
  ConfigSet set = parse(std::string(kServices) + R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{kind: Service, group: "", name: web, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: x-canary, value: "1"}]}]
    timeouts: {request: 1m30s}
    backendRefs: [{name: web-canary, port: 80}]
)");
  ASSERT_TRUE(set.errors.empty()) << set.errors[0].toString();
  ASSERT_EQ(set.services.size(), 2u);
  EXPECT_EQ(set.services[0].ports[0].target_port, 8080);
  ASSERT_EQ(set.http_routes.size(), 1u);
  const auto& rule = set.http_routes[0].rules[0];
  EXPECT_EQ(rule.matches[0].path_value, "/api");
  EXPECT_EQ(rule.matches[0].headers[0].name, "x-canary");
  EXPECT_EQ(*rule.request_timeout_ms, 90000u);
}

TEST(ParserTest, ErrorsNameFileDocumentObjectAndField) {
  ConfigSet set = parse(std::string(kServices) + R"(
---
apiVersion: v1
kind: Service
metadata: {name: bad, namespace: shop}
spec:
  ports: [{name: http, port: 99999}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
)");
  ASSERT_EQ(set.errors.size(), 2u);
  EXPECT_EQ(set.errors[0].toString(),
            "test.yaml (document 3): Service shop/bad: spec.ports[0].port: must be within "
            "1..65535 (got 99999)");
  EXPECT_EQ(set.errors[1].field, "kind");
  EXPECT_NE(set.errors[1].message.find("unknown kind 'Widget'"), std::string::npos);
  EXPECT_EQ(set.services.size(), 2u);  // the valid objects still apply
}

TEST(ValidateTest, RouteErrorsRejectOnlyThatRoute) {
  auto route = [](const std::string& name, const std::string& refs) {
    return "\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " +
           name +
           ", namespace: shop}\nspec:\n  parentRefs: [{kind: Service, name: web}]\n"
           "  rules:\n  - backendRefs: " +
           refs + "\n";
  };
  ConfigSet set =
      parse(std::string(kServices) + route("negative", "[{name: web, port: 80, weight: -1}]") +
            route("zero", "[{name: web, port: 80, weight: 0}]") +
            route("missing", "[{name: nope, port: 80}]") +
            route("good", "[{name: web-canary, port: 80, weight: 5}]") +
            route("good", "[{name: web, port: 80}]"));
  ASSERT_EQ(set.http_routes.size(), 1u);
  EXPECT_EQ(set.http_routes[0].meta.name, "good");
  ASSERT_EQ(set.errors.size(), 4u);
  std::string all;
  for (const auto& e : set.errors) all += e.toString() + "\n";
  EXPECT_NE(all.find("spec.rules[0].backendRefs[0].weight: must be within 0..1000000 (got -1)"),
            std::string::npos);
  EXPECT_NE(all.find("weights are all zero"), std::string::npos);
  EXPECT_NE(all.find("backend Service 'nope' does not exist"), std::string::npos);
  EXPECT_NE(all.find("duplicate name"), std::string::npos);
}

// Every HTTPRoute field weft does not act on is an error naming it, never
// dropped: each route below has one, and only that route is rejected.
TEST(ValidateTest, HttpRouteFieldsWeftDoesNotActOnAreErrors) {
  struct Case {
    const char* rule;  // the YAML of spec.rules[0]
    const char* error;
  };
  std::vector<Case> cases = {
      {"{sessionPersistence: {type: Cookie}, backendRefs: [{name: web, port: 80}]}",
       "spec.rules[0].sessionPersistence: is not supported by weft"},
      {"{filters: [{type: ExtensionRef, extensionRef: {name: x}}], backendRefs: [{name: web}]}",
       "spec.rules[0].filters[0].type: 'ExtensionRef' is not supported by weft"},
      {"{filters: [{type: CORS, cors: {}}], backendRefs: [{name: web}]}",
       "spec.rules[0].filters[0].type: 'CORS' is not supported by weft"},
      {"{matches: [{path: {type: Exact, value: /a}, headers: [{name: x, value: y, extra: 1}]}], "
       "backendRefs: [{name: web}]}",
       "spec.rules[0].matches[0].headers[0].extra: is not supported by weft"},
      {"{backendRefs: [{name: web, filters: [{type: URLRewrite, urlRewrite: {hostname: a}}]}]}",
       "spec.rules[0].backendRefs[0].filters[0].type: 'URLRewrite'"},
      {"{backendRefs: [{name: web, kind: ServiceImport}]}",
       "spec.rules[0].backendRefs[0].kind: 'ServiceImport' is not supported by weft"},
      {"{filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}], "
       "backendRefs: [{name: web}]}",
       "spec.rules[0].backendRefs: a rule with a RequestRedirect answers the redirect itself"},
      {"{matches: [{path: {type: Exact, value: /a}}], filters: [{type: URLRewrite, urlRewrite: "
       "{path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}}], backendRefs: [{name: web}]}",
       "spec.rules[0].matches: ReplacePrefixMatch needs exactly one match, of type PathPrefix"},
      {"{filters: [{type: RequestMirror, requestMirror: {backendRef: {name: nope, port: 80}}}], "
       "backendRefs: [{name: web}]}",
       "spec.rules[0].filters[0].requestMirror.backendRef.name: backend Service 'nope' does not "
       "exist"},
      {"{matches: [{queryParams: [{type: RegularExpression, name: v, value: \"(\"}]}], "
       "backendRefs: [{name: web}]}",
       "spec.rules[0].matches[0].queryParams[0].value"},
      {"{filters: [{type: RequestRedirect, requestRedirect: {statusCode: 304}}]}",
       "spec.rules[0].filters[0].requestRedirect.statusCode: must be 301, 302, 303, 307 or 308"},
  };
  for (const auto& c : cases) {
    ConfigSet set = parse(std::string(kServices) +
                          "\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
                          "metadata: {name: bad, namespace: shop}\nspec:\n"
                          "  parentRefs: [{kind: Service, name: web}]\n  rules:\n  - " +
                          c.rule + "\n");
    EXPECT_TRUE(set.http_routes.empty()) << c.rule;
    ASSERT_EQ(set.errors.size(), 1u) << c.rule;
    EXPECT_NE(set.errors[0].toString().find(c.error), std::string::npos)
        << set.errors[0].toString() << "\n  wanted: " << c.error;
  }
  ConfigSet unknown = parse(std::string(kServices) +
                            "\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
                            "metadata: {name: bad, namespace: shop}\nspec:\n"
                            "  parentRefs: [{kind: Service, name: web, sectionName: grpc}]\n");
  ASSERT_EQ(unknown.errors.size(), 1u);
  EXPECT_NE(unknown.errors[0].toString().find("spec.parentRefs[0].sectionName"), std::string::npos)
      << unknown.errors[0].toString();
}

TEST(ValidateTest, GrpcRouteFieldsWeftDoesNotActOnAreErrors) {
  struct Case {
    const char* rule;  // the YAML of spec.rules[0]
    const char* error;
  };
  std::vector<Case> cases = {
      {"{name: first, backendRefs: [{name: web, port: 80}]}",
       "GRPCRoute shop/bad: spec.rules[0].name: is not supported by weft (here it reads matches, "
       "filters, backendRefs)"},
      {"{sessionPersistence: {type: Cookie}, backendRefs: [{name: web, port: 80}]}",
       "spec.rules[0].sessionPersistence: is not supported by weft"},
      {"{filters: [{type: ExtensionRef, extensionRef: {name: x}}], backendRefs: [{name: web}]}",
       "spec.rules[0].filters[0].type: 'ExtensionRef' is not supported by weft"},
      // HTTPRoute's filters are not GRPCRoute's.
      {"{filters: [{type: URLRewrite, urlRewrite: {hostname: a}}], backendRefs: [{name: web}]}",
       "spec.rules[0].filters[0].type: 'URLRewrite' is not supported by weft"},
      {"{matches: [{path: {type: Exact, value: /a}}], backendRefs: [{name: web}]}",
       "spec.rules[0].matches[0].path: is not supported by weft (here it reads method, headers)"},
      {"{matches: [{method: {type: Exact}}], backendRefs: [{name: web}]}",
       "spec.rules[0].matches[0].method: one or both of service and method must be given"},
      {"{matches: [{method: {service: \"a/b\"}}], backendRefs: [{name: web}]}",
       "spec.rules[0].matches[0].method.service: 'a/b' is not a gRPC service name"},
      {"{matches: [{method: {service: a.B, method: \"M.x\"}}], backendRefs: [{name: web}]}",
       "spec.rules[0].matches[0].method.method: 'M.x' is not a gRPC method name"},
      {"{matches: [{method: {type: Prefix, service: a}}], backendRefs: [{name: web}]}",
       "spec.rules[0].matches[0].method.type: 'Prefix' is not Exact or RegularExpression"},
      {"{matches: [{method: {type: RegularExpression, method: \"(\"}}], backendRefs: [{name: "
       "web}]}",
       "spec.rules[0].matches[0].method.method: invalid regular expression"},
      {"{backendRefs: [{name: web, filters: [{type: RequestMirror}]}]}",
       "spec.rules[0].backendRefs[0].filters[0].type: 'RequestMirror' is not supported by weft on "
       "a backendRef"},
      {"{backendRefs: [{name: nope}]}",
       "spec.rules[0].backendRefs[0].name: backend Service 'nope' does not exist"},
  };
  for (const auto& c : cases) {
    ConfigSet set = parse(std::string(kServices) +
                          "\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\n"
                          "metadata: {name: bad, namespace: shop}\nspec:\n"
                          "  parentRefs: [{kind: Service, name: web}]\n  rules:\n  - " +
                          c.rule + "\n");
    EXPECT_TRUE(set.grpc_routes.empty()) << c.rule;
    ASSERT_EQ(set.errors.size(), 1u) << c.rule;
    EXPECT_NE(set.errors[0].toString().find(c.error), std::string::npos)
        << set.errors[0].toString() << "\n  wanted: " << c.error;
  }
  // A GRPCRoute and an HTTPRoute may share a name; two GRPCRoutes may not.
  std::string grpc_route =
      "\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\n"
      "metadata: {name: same, namespace: shop}\nspec:\n"
      "  parentRefs: [{kind: Service, name: web, port: 80}]\n  hostnames: [rpc.example.com]\n";
  ConfigSet same = parse(std::string(kServices) + grpc_route + grpc_route +
                         "\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
                         "metadata: {name: same, namespace: shop}\nspec:\n"
                         "  parentRefs: [{kind: Service, name: web, port: 80}]\n"
                         "  hostnames: [web.example.com]\n");
  EXPECT_EQ(same.grpc_routes.size(), 1u);
  EXPECT_EQ(same.http_routes.size(), 1u);
  ASSERT_EQ(same.errors.size(), 1u);
  EXPECT_NE(same.errors[0].toString().find("GRPCRoute shop/same: metadata.name: duplicate name"),
            std::string::npos)
      << same.errors[0].toString();
}

// One DestinationPolicy for shop/web with `spec_rest` after its targetRef.
ConfigSet parseDestinationPolicy(const std::string& spec_rest) {
  return parse(std::string(kServices) + R"(
---
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: web, namespace: shop}
spec:
  targetRef: {kind: Service, name: web}
)" + spec_rest);
}

TEST(ParserTest, ConsistentHashing) {
  ConfigSet set = parseDestinationPolicy(R"(
  loadBalancer: RING_HASH
  consistentHash:
    httpCookie: {name: session, path: /, ttl: 1h}
    ringHash: {minimumRingSize: 4096}
)");
  ASSERT_TRUE(set.errors.empty()) << set.errors[0].toString();
  const auto& hash = *set.destination_policies[0].consistent_hash;
  EXPECT_EQ(hash.http_cookie->name, "session");
  EXPECT_EQ(hash.http_cookie->ttl_ms, 3600000u);
  EXPECT_EQ(hash.minimum_ring_size, 4096u);
  set = parseDestinationPolicy("  loadBalancer: MAGLEV\n  consistentHash: {useSourceIp: true}\n");
  ASSERT_TRUE(set.errors.empty()) << set.errors[0].toString();
  EXPECT_TRUE(set.destination_policies[0].consistent_hash->use_source_ip);
}

TEST(ParserTest, WeftDevFieldsItDoesNotReadOrCannotUseAreNamed) {
  for (const auto& [spec_rest, field, message] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"  loadBalancer: RING_HASH\n", "spec.consistentHash", "is required with loadBalancer"},
           {"  consistentHash: {httpHeaderName: x-user}\n", "spec.consistentHash",
            "only with loadBalancer RING_HASH or MAGLEV"},
           {"  loadBalancer: MAGLEV\n  consistentHash: {httpHeaderName: a, useSourceIp: true}\n",
            "spec.consistentHash", "exactly one of"},
           {"  loadBalancer: MAGLEV\n  consistentHash: {httpQueryParameterName: u}\n",
            "spec.consistentHash.httpQueryParameterName", "not a field weft reads"},
           {"  loadBalancer: MAGLEV\n  consistentHash: {useSourceIp: true, maglev: {tableSize: "
            "1000}}\n",
            "spec.consistentHash.maglev.tableSize", "1000 is not a prime"},
           {"  loadBalancer: MAGLEV\n  consistentHash: {useSourceIp: true, ringHash: "
            "{minimumRingSize: 8}}\n",
            "spec.consistentHash.ringHash", "applies to RING_HASH only"},
           {"  loadBalancer: RANDOM\n", "spec.loadBalancer", "is not ROUND_ROBIN"},
           {"  connectionPool: {maxConnections: 4, http2MaxRequests: 8}\n",
            "spec.connectionPool.http2MaxRequests", "not a field weft reads"},
           {"  outlierDetection: {consecutiveErrors: 3}\n",
            "spec.outlierDetection.consecutiveErrors", "not a field weft reads"},
           {"  trafficPolicy: {}\n", "spec.trafficPolicy", "not a field weft reads"}}) {
    ConfigSet set = parseDestinationPolicy(spec_rest);
    ASSERT_EQ(set.errors.size(), 1u) << spec_rest;
    EXPECT_EQ(set.errors[0].field, field) << spec_rest;
    EXPECT_NE(set.errors[0].message.find(message), std::string::npos) << set.errors[0].toString();
    EXPECT_TRUE(set.destination_policies.empty());
  }
  ConfigSet set = parse(std::string(kServices) + R"(
---
apiVersion: weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: {name: web, namespace: shop}
spec:
  targetRef: {kind: Service, name: web}
  rules: [{from: [{namespace: shop}], to: {paths: [/a], ports: ["80"]}}]
)");
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].field, "spec.rules[0].to.ports");
}

// What every proxy would refuse (a NACK) is refused by weft-control first.
TEST(ValidateTest, ValuesProxiesWouldRefuseAreNamed) {
  ConfigSet set = parseDestinationPolicy("  connectionPool: {connectTimeout: 0s}\n");
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].field, "spec.connectionPool.connectTimeout");
  set = parse(std::string(kServices) + R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: shop
  annotations: {weft.dev/retry-on: "connect-failure, retry-forever"}
spec:
  parentRefs: [{kind: Service, group: "", name: web, port: 80}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
)");
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].field, "metadata.annotations[weft.dev/retry-on]");
  EXPECT_NE(set.errors[0].message.find("'retry-forever' is not a retry condition"),
            std::string::npos);
}

TEST(ParserTest, GatewayDurations) {
  EXPECT_EQ(*parseGatewayDurationMs("250ms"), 250u);
  EXPECT_EQ(*parseGatewayDurationMs("1h2m3s"), 3723000u);
  EXPECT_FALSE(parseGatewayDurationMs("10"));
  EXPECT_FALSE(parseGatewayDurationMs("1.5s"));
  EXPECT_FALSE(parseGatewayDurationMs(""));
}

}  // namespace
}  // namespace weft::control
