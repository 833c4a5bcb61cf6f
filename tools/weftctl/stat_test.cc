#include "tools/weftctl/stat.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace weft::weftctl {
namespace {

TEST(StatTest, TargetsAndTheirQueries) {
  StatTarget t;
  std::string error;
  ASSERT_TRUE(parseStatTarget("svc/reviews", &t, &error));
  EXPECT_EQ(t.kind, "service");
  t.ns = "shop";
  EXPECT_EQ(successQuery(t),
            "sum(rate(istio_requests_total{reporter=\"destination\",destination_service_namespace="
            "\"shop\",destination_service_name=\"reviews\",response_code!~\"5..\"}[1m])) by "
            "(destination_workload) / sum(rate(istio_requests_total{reporter=\"destination\","
            "destination_service_namespace=\"shop\",destination_service_name=\"reviews\"}[1m])) "
            "by (destination_workload) * 100");
  EXPECT_FALSE(parseStatTarget("pod/x", &t, &error));
  EXPECT_NE(error.find("not workload/NAME or service/NAME"), std::string::npos);
  EXPECT_FALSE(parseStatTarget("service/a\"b", &t, &error));
}

TEST(StatTest, QuantilesInterpolateAsPrometheusDoes) {
  const double inf = std::numeric_limits<double>::infinity();
  // 100 requests: 50 under 10 ms, 40 more under 50, 10 more under 100.
  std::vector<std::pair<double, double>> b = {{10, 50}, {50, 90}, {100, 100}, {inf, 100}};
  EXPECT_DOUBLE_EQ(bucketQuantile(0.5, b), 10);
  EXPECT_DOUBLE_EQ(bucketQuantile(0.7, b), 30);
  EXPECT_DOUBLE_EQ(bucketQuantile(0.99, b), 95);
  EXPECT_DOUBLE_EQ(bucketQuantile(0.99, {{10, 0}, {inf, 5}}), 10);  // in +Inf: highest bound
  EXPECT_EQ(bucketQuantile(0.5, {{10, 0}, {inf, 0}}), -1);
}

TEST(StatTest, TwoScrapesOfASidecarGiveTheWindowsFigures) {
  auto scrape = [](int ok, int failed, int fast, int slow) {
    char text[2048];
    const char* labels =
        "reporter=\"destination\",destination_workload=\"reviews-v2\","
        "destination_workload_namespace=\"default\",destination_service_name=\"reviews\","
        "destination_service_namespace=\"default\"";
    std::snprintf(
        text, sizeof(text),
        "# TYPE istio_requests_total counter\n"
        "istio_requests_total{%s,response_code=\"200\"} %d\n"
        "istio_requests_total{%s,response_code=\"503\"} %d\n"
        "istio_requests_total{reporter=\"source\",destination_workload=\"reviews-v2\","
        "destination_workload_namespace=\"default\",response_code=\"200\"} 999\n"
        "istio_request_duration_milliseconds_bucket{%s,response_code=\"200\",le=\"10\"} %d\n"
        "istio_request_duration_milliseconds_bucket{%s,response_code=\"200\",le=\"50\"} %d\n"
        "istio_request_duration_milliseconds_bucket{%s,response_code=\"200\",le=\"+Inf\"} %d\n",
        labels, ok, labels, failed, labels, fast, labels, fast + slow, labels, fast + slow);
    return parseExposition(text);
  };
  StatTarget t;
  t.kind = "workload";
  t.name = "reviews-v2";
  auto rows = rowsFromScrapes(scrape(10, 0, 10, 0), scrape(90, 20, 50, 40), 10, t);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].workload, "reviews-v2");
  EXPECT_DOUBLE_EQ(rows[0].rps, 10);  // (110 - 10) / 10 s; the source reporter's 999 not counted
  EXPECT_DOUBLE_EQ(rows[0].success_percent, 80);
  EXPECT_DOUBLE_EQ(rows[0].p50_ms, 10);  // 40 of 80 under 10 ms
  EXPECT_NE(formatRows(rows).find("80.00%"), std::string::npos) << formatRows(rows);
}

}  // namespace
}  // namespace weft::weftctl
