#include "proxy/config/route_table.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <map>

#include "proxy/translate/translate_route.h"

namespace weft::translate {
namespace {

std::shared_ptr<const config::RouteTable> compile(const std::string& json) {
  envoy::config::route::v3::RouteConfiguration proto;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &proto).ok());
  common::ErrorList errors;
  auto table = translate::translateRouteConfiguration(proto, "route_config", errors);
  EXPECT_TRUE(errors.empty()) << errors.joined();
  return table;
}

http::HeaderMap request(const std::string& authority, const std::string& path,
                        std::map<std::string, std::string> extra = {}) {
  http::HeaderMap h;
  h.add(":method", "GET");
  h.add(":authority", authority);
  h.add(":path", path);
  for (auto& [k, v] : extra) h.add(k, v);
  return h;
}

const std::string kTable = R"({
  "virtual_hosts": [
    {"name": "exact", "domains": ["api.example.com", "api.example.com:8080"],
     "routes": [{"match": {"path": "/v1/users"}, "route": {"cluster": "users"}},
                {"match": {"prefix": "/v1/", "headers": [{"name": "X-Canary", "exact_match": "1"}]},
                 "route": {"cluster": "canary"}},
                {"match": {"safe_regex": {"regex": "/v1/items/[0-9]+"}}, "route": {"cluster": "items"}},
                {"match": {"prefix": "/"}, "route": {"cluster": "api"}}]},
    {"name": "suffix", "domains": ["*.example.com"],
     "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "wild"}}]},
    {"name": "longer-suffix", "domains": ["*.eu.example.com"],
     "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "eu"}}]},
    {"name": "default", "domains": ["*"],
     "routes": [{"match": {"prefix": "/static", "case_sensitive": false}, "route": {"cluster": "static"}}]}
  ]})";

std::string clusterFor(const config::RouteTable& table, const http::HeaderMap& h) {
  const config::RouteEntry* e = table.route(h);
  return e == nullptr ? "<none>" : e->cluster;
}

TEST(RouteTableTest, ExactPathBeatsLaterPrefix) {
  auto t = compile(kTable);
  EXPECT_EQ(clusterFor(*t, request("api.example.com", "/v1/users")), "users");
  EXPECT_EQ(clusterFor(*t, request("api.example.com", "/v1/users?x=1")), "users");
  EXPECT_EQ(clusterFor(*t, request("api.example.com", "/v1/users/2")), "api");
}

TEST(RouteTableTest, HeaderMatcherSelectsCanary) {
  auto t = compile(kTable);
  EXPECT_EQ(clusterFor(*t, request("api.example.com", "/v1/x", {{"x-canary", "1"}})), "canary");
  EXPECT_EQ(clusterFor(*t, request("api.example.com", "/v1/x", {{"x-canary", "0"}})), "api");
}

TEST(RouteTableTest, RegexIsFullMatch) {
  auto t = compile(kTable);
  EXPECT_EQ(clusterFor(*t, request("api.example.com", "/v1/items/42")), "items");
  EXPECT_EQ(clusterFor(*t, request("api.example.com", "/v1/items/42/x")), "api");
}

TEST(RouteTableTest, VirtualHostPrecedence) {
  auto t = compile(kTable);
  EXPECT_EQ(clusterFor(*t, request("API.example.com:8080", "/")), "api");
  EXPECT_EQ(clusterFor(*t, request("api.example.com:9999", "/")), "api");  // port stripped
  EXPECT_EQ(clusterFor(*t, request("www.example.com", "/")), "wild");
  EXPECT_EQ(clusterFor(*t, request("x.eu.example.com", "/")), "eu");  // longest suffix wins
  EXPECT_EQ(clusterFor(*t, request("other.org", "/STATIC/a.css")), "static");
  EXPECT_EQ(clusterFor(*t, request("other.org", "/dynamic")), "<none>");
}

TEST(RouteTableTest, WeightedClustersHonourWeights) {
  auto t = compile(R"({"virtual_hosts": [{"name": "a", "domains": ["*"], "routes": [
      {"match": {"prefix": "/"}, "route": {"weighted_clusters": {"clusters": [
        {"name": "v1", "weight": 90}, {"name": "v2", "weight": 10}]}}}]}]})");
  const config::RouteEntry* e = t->route(request("x", "/"));
  ASSERT_NE(e, nullptr);
  std::map<std::string, int> counts;
  for (uint64_t r = 0; r < 1000; ++r) counts[e->pickWeighted(r)->cluster]++;
  EXPECT_EQ(counts["v1"], 900);
  EXPECT_EQ(counts["v2"], 100);
}

TEST(RouteTableTest, InvalidRegexAndZeroWeightsAreErrors) {
  envoy::config::route::v3::RouteConfiguration proto;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  R"({"virtual_hosts": [{"name": "a", "domains": ["*"], "routes": [
      {"match": {"safe_regex": {"regex": "(unclosed"}}, "route": {"cluster": "c"}},
      {"match": {"prefix": "/"}, "route": {"weighted_clusters": {"clusters": [
        {"name": "v1", "weight": 0}]}}}]}]})",
                  &proto)
                  .ok());
  common::ErrorList errors;
  EXPECT_EQ(translate::translateRouteConfiguration(proto, "rc", errors), nullptr);
  ASSERT_EQ(errors.all().size(), 2u) << errors.joined();
  EXPECT_NE(errors.all()[0].find("rc.virtual_hosts[0].routes[0].match.safe_regex.regex"),
            std::string::npos);
  EXPECT_NE(errors.all()[1].find("weights sum to zero"), std::string::npos);
}

TEST(RouteTableTest, QueryParametersMustAllMatch) {
  auto t = compile(R"({"virtual_hosts": [{"name": "a", "domains": ["*"], "routes": [
      {"match": {"prefix": "/", "query_parameters": [
         {"name": "v", "string_match": {"exact": "2"}},
         {"name": "debug", "present_match": true}]}, "route": {"cluster": "both"}},
      {"match": {"prefix": "/", "query_parameters": [
         {"name": "v", "string_match": {"safe_regex": {"regex": "[0-9]+"}}}]},
       "route": {"cluster": "numeric"}},
      {"match": {"prefix": "/"}, "route": {"cluster": "rest"}}]}]})");
  auto pick = [&](const std::string& path) { return t->route(request("x", path))->cluster; };
  EXPECT_EQ(pick("/a?v=2&debug"), "both");
  EXPECT_EQ(pick("/a?debug=1&v=2#frag"), "both");
  EXPECT_EQ(pick("/a?v=2"), "numeric");
  EXPECT_EQ(pick("/a?v=22&debug"), "numeric");  // exact, not prefix
  EXPECT_EQ(pick("/a?v=x&debug"), "rest");
  EXPECT_EQ(pick("/a?vv=2&debug"), "rest");  // names compared whole
  EXPECT_EQ(pick("/a"), "rest");
  EXPECT_EQ(pick("/a?v=3&v=2"), "numeric");  // the first value counts
}

TEST(RouteTableTest, SeparatedPrefixMatchesWholeSegments) {
  auto t = compile(R"({"virtual_hosts": [{"name": "a", "domains": ["*"], "routes": [
      {"match": {"path_separated_prefix": "/api"}, "route": {"cluster": "api"}},
      {"match": {"prefix": "/"}, "route": {"cluster": "rest"}}]}]})");
  auto pick = [&](const std::string& path) { return t->route(request("x", path))->cluster; };
  EXPECT_EQ(pick("/api"), "api");
  EXPECT_EQ(pick("/api/"), "api");
  EXPECT_EQ(pick("/api/v1?x=1"), "api");
  EXPECT_EQ(pick("/api?x=1"), "api");
  EXPECT_EQ(pick("/apis"), "rest");
}

TEST(RouteTableTest, RedirectLocations) {
  auto t = compile(R"({"virtual_hosts": [{"name": "a", "domains": ["*"], "routes": [
      {"match": {"prefix": "/https"}, "redirect": {"https_redirect": true}},
      {"match": {"prefix": "/host"}, "redirect": {"host_redirect": "other.example", "response_code": "FOUND"}},
      {"match": {"prefix": "/port"}, "redirect": {"port_redirect": 8443, "scheme_redirect": "https"}},
      {"match": {"path_separated_prefix": "/old"}, "redirect": {"prefix_rewrite": "/new", "response_code": "PERMANENT_REDIRECT"}},
      {"match": {"prefix": "/full"}, "redirect": {"path_redirect": "/elsewhere", "strip_query": true}},
      {"match": {"prefix": "/re"}, "redirect": {"regex_rewrite": {"pattern": {"regex": "^/re/([^/]+)$"}, "substitution": "/by-id/\\1"}}}
    ]}]})");
  auto location = [&](const std::string& authority, const std::string& path,
                      std::map<std::string, std::string> extra = {}) {
    http::HeaderMap h = request(authority, path, std::move(extra));
    const config::RouteEntry* e = t->route(h);
    EXPECT_TRUE(e != nullptr && e->redirect) << path;
    return std::to_string(e->redirect->status) + " " + e->redirectLocation(h);
  };
  // A scheme change drops the old port (the new scheme's own applies).
  EXPECT_EQ(location("shop:8080", "/https/a?q=1"), "301 https://shop/https/a?q=1");
  EXPECT_EQ(location("shop:8080", "/host"), "302 http://other.example:8080/host");
  EXPECT_EQ(location("shop", "/port"), "301 https://shop:8443/port");
  EXPECT_EQ(location("shop:80", "/old/x?y=1"), "308 http://shop/new/x?y=1");
  EXPECT_EQ(location("shop", "/full/x?y=1"), "301 http://shop/elsewhere");
  EXPECT_EQ(location("shop", "/re/42"), "301 http://shop/by-id/42");
  EXPECT_EQ(location("shop", "/https", {{"x-forwarded-proto", "https"}}), "301 https://shop/https");
}

TEST(RouteTableTest, AppendActionsAndWeightedTargetMutations) {
  auto t = compile(R"({"virtual_hosts": [{"name": "a", "domains": ["*"], "routes": [
      {"match": {"prefix": "/"},
       "request_headers_to_add": [
         {"header": {"key": "x-add", "value": "2"}},
         {"header": {"key": "x-set", "value": "new"}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"},
         {"header": {"key": "x-absent", "value": "added"}, "append_action": "ADD_IF_ABSENT"},
         {"header": {"key": "x-keep", "value": "no"}, "append_action": "ADD_IF_ABSENT"},
         {"header": {"key": "x-legacy", "value": "v"}, "append": false}],
       "request_headers_to_remove": ["x-drop"],
       "route": {"weighted_clusters": {"clusters": [
         {"name": "v1", "weight": 1, "request_headers_to_add": [{"header": {"key": "x-target", "value": "v1"}}]}]}}}
    ]}]})");
  http::HeaderMap h = request(
      "x", "/",
      {{"x-add", "1"}, {"x-set", "old"}, {"x-keep", "yes"}, {"x-drop", "1"}, {"x-legacy", "old"}});
  const config::RouteEntry* e = t->route(h);
  ASSERT_NE(e, nullptr);
  e->pickWeighted(0)->request_mutation.apply(h);
  e->request_mutation.apply(h);
  std::vector<std::string> adds;
  for (const auto& [name, value] : h.entries()) {
    if (name == "x-add") adds.push_back(value);
  }
  EXPECT_EQ(adds, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(*h.get("x-set"), "new");
  EXPECT_EQ(*h.get("x-absent"), "added");
  EXPECT_EQ(*h.get("x-keep"), "yes");
  EXPECT_EQ(*h.get("x-legacy"), "v");
  EXPECT_EQ(*h.get("x-target"), "v1");
  EXPECT_FALSE(h.has("x-drop"));
}

TEST(RouteTableTest, RewriteAndMirrorFieldsAreValidated) {
  envoy::config::route::v3::RouteConfiguration proto;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  R"({"virtual_hosts": [{"name": "a", "domains": ["*"], "routes": [
      {"match": {"prefix": "/a"}, "route": {"cluster": "c", "prefix_rewrite": "/b",
        "regex_rewrite": {"pattern": {"regex": "x"}, "substitution": "y"}}},
      {"match": {"prefix": "/b"}, "route": {"cluster": "c", "request_mirror_policies": [
        {"cluster": "m", "runtime_fraction": {"runtime_key": "k", "default_value": {"numerator": 5}}}]}},
      {"match": {"path": "/c"}, "redirect": {"prefix_rewrite": "/d"}},
      {"match": {"path_separated_prefix": "/e/"}, "route": {"cluster": "c"}},
      {"match": {"prefix": "/f", "query_parameters": [{"name": "q"}]}, "route": {"cluster": "c"}}
    ]}]})",
                  &proto)
                  .ok());
  common::ErrorList errors;
  EXPECT_EQ(translate::translateRouteConfiguration(proto, "rc", errors), nullptr);
  std::string all = errors.joined();
  EXPECT_NE(all.find("routes[0].route.regex_rewrite: only one of prefix_rewrite, regex_rewrite"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("routes[1].route.request_mirror_policies[0].runtime_fraction.runtime_key"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("routes[2].redirect.prefix_rewrite: needs a prefix match"), std::string::npos)
      << all;
  EXPECT_NE(all.find("routes[3].match.path_separated_prefix"), std::string::npos) << all;
  EXPECT_NE(all.find("routes[4].match.query_parameters[0]: one of string_match, present_match"),
            std::string::npos)
      << all;
}

TEST(RouteTableTest, HashPoliciesAreReadAndWhatWeftCannotHashOnIsNamed) {
  auto table = compile(R"({"virtual_hosts": [{"name": "a", "domains": ["*"], "routes": [
      {"match": {"prefix": "/"}, "route": {"cluster": "c", "hash_policy": [
        {"header": {"header_name": "X-User"}, "terminal": true},
        {"cookie": {"name": "session", "ttl": "3600s", "path": "/"}},
        {"connection_properties": {"source_ip": true}}]}}]}]})");
  ASSERT_NE(table, nullptr);
  const auto& policies = table->virtualHosts()[0].routes[0].hash_policies;
  ASSERT_EQ(policies.size(), 3u);
  EXPECT_EQ(policies[0].kind, config::HashPolicy::Kind::kHeader);
  EXPECT_EQ(policies[0].name, "x-user");
  EXPECT_TRUE(policies[0].terminal);
  EXPECT_EQ(policies[1].kind, config::HashPolicy::Kind::kCookie);
  EXPECT_EQ(policies[1].cookie_ttl_ms, 3600000u);
  EXPECT_EQ(policies[1].cookie_path, "/");
  EXPECT_EQ(policies[2].kind, config::HashPolicy::Kind::kSourceIp);

  envoy::config::route::v3::RouteConfiguration proto;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  R"({"virtual_hosts": [{"name": "a", "domains": ["*"], "routes": [
      {"match": {"prefix": "/"}, "route": {"cluster": "c", "hash_policy": [
        {"query_parameter": {"name": "u"}},
        {"header": {"header_name": "x", "regex_rewrite": {"pattern": {"regex": "a"}, "substitution": "b"}}},
        {"connection_properties": {}},
        {"terminal": true}]}}]}]})",
                  &proto)
                  .ok());
  common::ErrorList errors;
  EXPECT_EQ(translate::translateRouteConfiguration(proto, "rc", errors), nullptr);
  std::string all = errors.joined();
  for (const char* expected :
       {"route.hash_policy[0].query_parameter: not supported by weft",
        "route.hash_policy[1].header.regex_rewrite: not supported by weft",
        "route.hash_policy[2].connection_properties.source_ip: must be true",
        "route.hash_policy[3]: one of header, cookie, connection_properties is required"}) {
    EXPECT_NE(all.find(expected), std::string::npos) << expected << " in " << all;
  }
}

}  // namespace
}  // namespace weft::translate
