#pragma once

// `weftctl stat`: the "am I healthy?" view of a workload or a Service, per
// workload behind it (so a canary's versions show side by side): success
// rate (non-5xx), requests per second, p50 and p99 over a window, as the
// callee's sidecar reports them (Istio's reporter="destination").
//
// Two sources: Prometheus (the PromQL Flagger's Istio provider runs), or
// one sidecar's own /stats/prometheus scraped twice, `window` apart.

#include <map>
#include <string>
#include <vector>

namespace weft::weftctl {

struct StatTarget {
  std::string kind;  // "workload" or "service"
  std::string name;
  std::string ns = "default";
  std::string window = "1m";  // a Prometheus duration
};

// "workload/reviews-v2" or "service/reviews" (also "deploy/..", "svc/..");
// false with `error` naming what is wrong.
bool parseStatTarget(const std::string& text, StatTarget* target, std::string* error);

struct StatRow {
  std::string workload;
  double success_percent = -1;  // -1: no requests in the window
  double rps = 0;
  double p50_ms = -1, p99_ms = -1;
};

// The label matchers that select the target at the callee's sidecar.
std::string statSelector(const StatTarget& target);
// The PromQL of each column, grouped by destination_workload.
std::string rpsQuery(const StatTarget& target);
std::string successQuery(const StatTarget& target);
std::string quantileQuery(const StatTarget& target, double quantile);

// One sample of a Prometheus text exposition.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};
std::vector<Sample> parseExposition(const std::string& text);

// Rows from two scrapes of one sidecar, `seconds` apart.
std::vector<StatRow> rowsFromScrapes(const std::vector<Sample>& before,
                                     const std::vector<Sample>& after, double seconds,
                                     const StatTarget& target);

// Prometheus' histogram_quantile over cumulative (le, count) buckets, sorted
// by le with +Inf last; -1 when empty.
double bucketQuantile(double quantile, const std::vector<std::pair<double, double>>& buckets);

std::string formatRows(const std::vector<StatRow>& rows);

}  // namespace weft::weftctl
