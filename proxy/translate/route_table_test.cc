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
  for (uint64_t r = 0; r < 1000; ++r) counts[e->pickCluster(r)]++;
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

}  // namespace
}  // namespace weft::translate
