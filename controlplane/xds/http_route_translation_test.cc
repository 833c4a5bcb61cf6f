#include "controlplane/xds/http_route_translation.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <string>
#include <vector>

#include "controlplane/config/parser.h"
#include "controlplane/config/validate.h"
#include "controlplane/xds/route_test_support.h"

namespace weft::control {
namespace {

namespace route_v3 = envoy::config::route::v3;

const char kServices[] = R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{name: http, port: 80}, {name: http-admin, port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-canary, namespace: shop}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-mirror, namespace: shop}
spec: {ports: [{name: http, port: 8080}]}
)";

const char kWeb[] = "outbound|80||web.shop.svc.cluster.local";
const char kCanary[] = "outbound|80||web-canary.shop.svc.cluster.local";

ConfigSet load(const std::string& yaml) { return testing::loadValid(kServices + yaml); }

std::vector<route_v3::Route> routesOf(const ConfigSet& set, uint16_t port = 80) {
  return testing::routesOfPort(set, "shop", "web", port);
}

// An HTTPRoute on Service web with one rule sending `match` to `backend`.
std::string route(const std::string& name, const std::string& match, const std::string& backend,
                  const std::string& extra_meta = "", const std::string& hostnames = "") {
  return "\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " +
         name + ", namespace: shop" + extra_meta +
         "}\nspec:\n  parentRefs: [{kind: Service, name: web}]\n" +
         (hostnames.empty() ? "" : "  hostnames: " + hostnames + "\n") +
         "  rules:\n  - matches: [" + match + "]\n    backendRefs: [{name: " + backend +
         ", port: 80}]\n";
}

// The Gateway API's precedence (HTTPRouteRule, HTTPRoute.hostnames), one
// pair per criterion: the rule to web must come before the rule to
// web-canary, whatever order they are written in.
struct PrecedenceCase {
  const char* criterion;
  std::string first;   // HTTPRoute documents whose rule goes to web
  std::string second;  // ... to web-canary
};

TEST(HttpRouteTranslationTest, GatewayApiPrecedence) {
  const std::string t1 = ", creationTimestamp: \"2026-01-01T00:00:00Z\"";
  const std::string t2 = ", creationTimestamp: \"2026-06-01T00:00:00Z\"";
  std::vector<PrecedenceCase> cases = {
      {"Exact beats any PathPrefix", route("a", "{path: {type: Exact, value: /a}}", "web"),
       route("b", "{path: {type: PathPrefix, value: /a/b/c/d/e}}", "web-canary")},
      {"the longer PathPrefix", route("b", "{path: {type: PathPrefix, value: /api/v2}}", "web"),
       route("a", "{path: {type: PathPrefix, value: /api}}", "web-canary")},
      {"RegularExpression after Exact, before PathPrefix (weft's choice)",
       route("b", "{path: {type: RegularExpression, value: \"/a.*\"}}", "web"),
       route("a", "{path: {type: PathPrefix, value: /a/b/c/d/e/f}}", "web-canary")},
      {"a method match beats header matches", route("b", "{method: GET}", "web"),
       route("a", "{headers: [{name: x-a, value: \"1\"}, {name: x-b, value: \"2\"}]}",
             "web-canary")},
      {"more header matches",
       route("b", "{headers: [{name: x-a, value: \"1\"}, {name: x-b, value: \"2\"}]}", "web"),
       route("a", "{headers: [{name: x-a, value: \"1\"}]}", "web-canary")},
      {"a header match beats query parameter matches",
       route("b", "{headers: [{name: x-a, value: \"1\"}]}", "web"),
       route("a", "{queryParams: [{name: v, value: \"2\"}, {name: w, value: \"3\"}]}",
             "web-canary")},
      {"more query parameter matches",
       route("b", "{queryParams: [{name: v, value: \"2\"}]}", "web"),
       route("a", "{path: {type: PathPrefix, value: /}}", "web-canary")},
      {"a hostname beats an Exact path", route("b", "{}", "web", "", "[web.shop]"),
       route("a", "{path: {type: Exact, value: /a}}", "web-canary")},
      {"an exact hostname beats a longer wildcard", route("b", "{}", "web", "", "[web.shop]"),
       route("a", "{}", "web-canary", "", "[\"*.shop.svc.cluster.local\"]")},
      {"the longer wildcard", route("b", "{}", "web", "", "[\"*.shop.svc.cluster.local\"]"),
       route("a", "{}", "web-canary", "", "[\"*.local\"]")},
      {"the older route at equal specificity", route("z", "{}", "web", t1),
       route("a", "{}", "web-canary", t2)},
      {"a route with a timestamp before one without", route("z", "{}", "web", t1),
       route("a", "{}", "web-canary")},
      {"then namespace/name", route("a", "{}", "web", t1), route("b", "{}", "web-canary", t1)},
  };
  for (const auto& c : cases) {
    for (bool swapped : {false, true}) {
      ConfigSet set = load(swapped ? c.second + c.first : c.first + c.second);
      auto routes = routesOf(set);
      ASSERT_EQ(routes.size(), 2u) << c.criterion;
      EXPECT_EQ(routes[0].route().cluster(), kWeb) << c.criterion << (swapped ? " (swapped)" : "");
      EXPECT_EQ(routes[1].route().cluster(), kCanary) << c.criterion;
    }
  }
}

TEST(HttpRouteTranslationTest, RuleOrderBreaksTiesWithinARoute) {
  ConfigSet set = load(R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{kind: Service, name: web}]
  rules:
  - matches: [{headers: [{name: x-a, value: "1"}]}]
    backendRefs: [{name: web-canary, port: 80}]
  - matches: [{headers: [{name: x-b, value: "1"}]}]
    backendRefs: [{name: web, port: 80}]
)");
  auto routes = routesOf(set);
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].route().cluster(), kCanary);
  EXPECT_EQ(routes[1].route().cluster(), kWeb);
}

TEST(HttpRouteTranslationTest, MatchesTranslate) {
  ConfigSet set = load(R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{kind: Service, name: web, sectionName: http-admin}]
  hostnames: ["*.example.com"]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /api/}
      queryParams: [{name: v, value: "2"}, {type: RegularExpression, name: w, value: "[0-9]+"}]
    - path: {type: PathPrefix, value: /}
    backendRefs: [{name: web, port: 80}]
)");
  EXPECT_TRUE(routesOf(set, 80).empty());  // sectionName: only the http-admin port
  auto routes = routesOf(set, 9000);
  ASSERT_EQ(routes.size(), 2u);
  const auto& m = routes[0].match();
  EXPECT_EQ(m.path_separated_prefix(), "/api");  // whole segments: not /apix
  ASSERT_EQ(m.query_parameters_size(), 2);
  EXPECT_EQ(m.query_parameters(0).name(), "v");
  EXPECT_EQ(m.query_parameters(0).string_match().exact(), "2");
  EXPECT_EQ(m.query_parameters(1).string_match().safe_regex().regex(), "[0-9]+");
  ASSERT_EQ(m.headers_size(), 1);
  EXPECT_EQ(m.headers(0).name(), ":authority");
  RE2 host(m.headers(0).string_match().safe_regex().regex());
  EXPECT_TRUE(RE2::FullMatch("a.example.com", host));
  EXPECT_TRUE(RE2::FullMatch("A.B.Example.COM:9000", host));
  EXPECT_FALSE(RE2::FullMatch("example.com", host));
  EXPECT_FALSE(RE2::FullMatch("a.example.com.evil", host));
  EXPECT_FALSE(RE2::FullMatch("aexample.com", host));
  EXPECT_EQ(routes[1].match().prefix(), "/");  // "/" is every path
}

// Applies a rewrite as the proxy does (RE2::Replace on the path).
std::string rewrite(const envoy::type::matcher::v3::RegexMatchAndSubstitute& r, std::string path) {
  RE2 pattern(r.pattern().regex());
  EXPECT_TRUE(pattern.ok()) << r.pattern().regex();
  RE2::Replace(&path, pattern, r.substitution());
  return path;
}

TEST(HttpRouteTranslationTest, ReplacePrefixMatchReplacesWholeSegments) {
  struct Case {
    const char* prefix;
    const char* replacement;
    const char* path;
    const char* want;
  };
  // The Gateway API's table (HTTPPathModifier), and a replacement holding
  // what a substitution would otherwise read as a group.
  std::vector<Case> cases = {
      {"/foo", "/xyz", "/foo/bar", "/xyz/bar"},
      {"/foo", "/xyz", "/foo", "/xyz"},
      {"/foo", "/xyz", "/foo/", "/xyz/"},
      {"/foo/", "/xyz/", "/foo/bar", "/xyz/bar"},
      {"/foo", "/", "/foo/bar", "/bar"},
      {"/foo", "/", "/foo", "/"},
      {"/foo", "/", "/foo/", "/"},
      {"/", "/xyz", "/bar", "/xyz/bar"},
      {"/a.b", "/\\\\1", "/a.b/c", "/\\1/c"},  // YAML "/\\1" is /\1
  };
  for (const auto& c : cases) {
    ConfigSet set = load(std::string(R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{kind: Service, name: web}]
  rules:
  - matches: [{path: {type: PathPrefix, value: ")") +
                         c.prefix + R"("}}]
    filters:
    - type: URLRewrite
      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: ")" +
                         c.replacement +
                         R"("}}
    backendRefs: [{name: web, port: 80}]
)");
    auto routes = routesOf(set);
    ASSERT_EQ(routes.size(), 1u);
    EXPECT_EQ(rewrite(routes[0].route().regex_rewrite(), c.path), c.want)
        << c.prefix << " -> " << c.replacement << " on " << c.path;
  }
}

TEST(HttpRouteTranslationTest, FiltersTranslate) {
  ConfigSet set = load(R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{kind: Service, name: web, port: 80}]
  rules:
  - matches: [{path: {type: Exact, value: /full}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: X-Set, value: a}]
        add: [{name: x-add, value: b}]
        remove: [x-gone]
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-resp, value: c}]}
    - type: URLRewrite
      urlRewrite: {hostname: api.internal, path: {type: ReplaceFullPath, replaceFullPath: /v2/all}}
    - type: RequestMirror
      requestMirror: {backendRef: {name: web-mirror, port: 8080}, percent: 25}
    - type: RequestMirror
      requestMirror: {backendRef: {name: web-canary, port: 80}, fraction: {numerator: 1, denominator: 3}}
    backendRefs:
    - name: web
      port: 80
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {set: [{name: x-backend, value: stable}]}
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, statusCode: 301, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}
  - matches: [{path: {type: Exact, value: /moved}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {hostname: elsewhere.example.com}
)");
  auto routes = routesOf(set);
  ASSERT_EQ(routes.size(), 3u);
  const route_v3::Route& full = routes[0];
  ASSERT_EQ(full.request_headers_to_add_size(), 2);
  EXPECT_EQ(full.request_headers_to_add(0).header().key(), "x-set");
  EXPECT_EQ(full.request_headers_to_add(0).append_action(),
            envoy::config::core::v3::HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
  EXPECT_EQ(full.request_headers_to_add(1).append_action(),
            envoy::config::core::v3::HeaderValueOption::APPEND_IF_EXISTS_OR_ADD);
  ASSERT_EQ(full.request_headers_to_remove_size(), 1);
  EXPECT_EQ(full.request_headers_to_remove(0), "x-gone");
  EXPECT_EQ(full.response_headers_to_add(0).header().value(), "c");
  const auto& action = full.route();
  EXPECT_EQ(action.host_rewrite_literal(), "api.internal");
  EXPECT_EQ(rewrite(action.regex_rewrite(), "/full"), "/v2/all");
  ASSERT_EQ(action.request_mirror_policies_size(), 2);
  EXPECT_EQ(action.request_mirror_policies(0).cluster(),
            "outbound|8080||web-mirror.shop.svc.cluster.local");
  EXPECT_EQ(action.request_mirror_policies(0).runtime_fraction().default_value().numerator(),
            250000u);
  EXPECT_EQ(action.request_mirror_policies(1).runtime_fraction().default_value().numerator(),
            333333u);
  // A backend with filters is a weighted cluster carrying them.
  ASSERT_EQ(action.weighted_clusters().clusters_size(), 1);
  EXPECT_EQ(action.weighted_clusters().clusters(0).name(), kWeb);
  EXPECT_EQ(action.weighted_clusters().clusters(0).request_headers_to_add(0).header().key(),
            "x-backend");

  const route_v3::Route& moved = routes[1];  // Exact before PathPrefix
  EXPECT_EQ(moved.redirect().host_redirect(), "elsewhere.example.com");
  EXPECT_EQ(moved.redirect().port_redirect(), 80u);  // the Service port
  EXPECT_EQ(moved.redirect().response_code(), route_v3::RedirectAction::FOUND);

  const route_v3::Route& old = routes[2];
  EXPECT_EQ(old.redirect().scheme_redirect(), "https");
  EXPECT_EQ(old.redirect().port_redirect(), 443u);  // the scheme's port
  EXPECT_EQ(old.redirect().response_code(), route_v3::RedirectAction::MOVED_PERMANENTLY);
  EXPECT_EQ(rewrite(old.redirect().regex_rewrite(), "/old/page"), "/new/page");
  EXPECT_FALSE(old.has_route());
}

TEST(HttpRouteTranslationTest, QueryParamsOnlyRuleMatchesOnlyThoseRequests) {
  // The bug the issue names: a rule whose only match is a query parameter
  // matched every request.
  ConfigSet set = load(route("canary", "{queryParams: [{name: v, value: \"2\"}]}", "web-canary"));
  auto routes = routesOf(set);
  ASSERT_EQ(routes.size(), 1u);
  ASSERT_EQ(routes[0].match().query_parameters_size(), 1);
  EXPECT_EQ(routes[0].match().query_parameters(0).string_match().exact(), "2");
}

}  // namespace
}  // namespace weft::control
