#include "tools/weftctl/stat.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace weft::weftctl {

bool parseStatTarget(const std::string& text, StatTarget* target, std::string* error) {
  size_t slash = text.find('/');
  std::string kind = slash == std::string::npos ? "" : text.substr(0, slash);
  std::string name = slash == std::string::npos ? "" : text.substr(slash + 1);
  if (kind == "workload" || kind == "deploy" || kind == "deployment" || kind == "sts" ||
      kind == "statefulset") {
    target->kind = "workload";
  } else if (kind == "service" || kind == "svc") {
    target->kind = "service";
  } else {
    *error = "'" + text + "' is not workload/NAME or service/NAME";
    return false;
  }
  if (name.empty() || name.find_first_of("\"\\{}") != std::string::npos) {
    *error = "'" + text + "' names no workload or service";
    return false;
  }
  target->name = name;
  return true;
}

std::string statSelector(const StatTarget& t) {
  if (t.kind == "service") {
    return "reporter=\"destination\",destination_service_namespace=\"" + t.ns +
           "\",destination_service_name=\"" + t.name + "\"";
  }
  return "reporter=\"destination\",destination_workload_namespace=\"" + t.ns +
         "\",destination_workload=\"" + t.name + "\"";
}

std::string rpsQuery(const StatTarget& t) {
  return "sum(rate(istio_requests_total{" + statSelector(t) + "}[" + t.window +
         "])) by (destination_workload)";
}

std::string successQuery(const StatTarget& t) {
  return "sum(rate(istio_requests_total{" + statSelector(t) + ",response_code!~\"5..\"}[" +
         t.window + "])) by (destination_workload) / " + rpsQuery(t) + " * 100";
}

std::string quantileQuery(const StatTarget& t, double quantile) {
  char q[16];
  std::snprintf(q, sizeof(q), "%g", quantile);
  return std::string("histogram_quantile(") + q +
         ", sum(rate(istio_request_duration_milliseconds_bucket{" + statSelector(t) + "}[" +
         t.window + "])) by (le, destination_workload))";
}

std::vector<Sample> parseExposition(const std::string& text) {
  std::vector<Sample> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    Sample sample;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    sample.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') break;
        std::string key = line.substr(i, eq - i);
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value.push_back(line[j] == 'n' ? '\n' : line[j]);
          } else {
            value.push_back(line[j]);
          }
        }
        sample.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // '}'
    }
    char* number_end = nullptr;
    std::string rest = i < line.size() ? line.substr(i) : "";
    sample.value = std::strtod(rest.c_str(), &number_end);
    if (number_end == rest.c_str()) continue;
    out.push_back(std::move(sample));
  }
  return out;
}

double bucketQuantile(double quantile, const std::vector<std::pair<double, double>>& buckets) {
  if (buckets.empty() || buckets.back().second <= 0) return -1;
  double total = buckets.back().second;
  double rank = quantile * total;
  double lower = 0, below = 0;
  for (const auto& [le, count] : buckets) {
    if (count >= rank) {
      if (std::isinf(le)) return lower;  // Prometheus: the highest finite bound
      if (count == below) return le;
      return lower + (le - lower) * (rank - below) / (count - below);
    }
    lower = le;
    below = count;
  }
  return lower;
}

namespace {

bool selected(const Sample& s, const StatTarget& t) {
  auto label = [&s](const char* key) {
    auto it = s.labels.find(key);
    return it == s.labels.end() ? std::string() : it->second;
  };
  if (label("reporter") != "destination") return false;
  if (t.kind == "service") {
    return label("destination_service_namespace") == t.ns &&
           label("destination_service_name") == t.name;
  }
  return label("destination_workload_namespace") == t.ns && label("destination_workload") == t.name;
}

struct Totals {
  double requests = 0, errors = 0;
  std::map<double, double> buckets;  // le -> cumulative count
};

std::map<std::string, Totals> totals(const std::vector<Sample>& samples, const StatTarget& t) {
  std::map<std::string, Totals> out;
  for (const Sample& s : samples) {
    if (!selected(s, t)) continue;
    Totals& row = out[s.labels.at("destination_workload")];
    if (s.name == "istio_requests_total") {
      row.requests += s.value;
      auto code = s.labels.find("response_code");
      if (code != s.labels.end() && !code->second.empty() && code->second[0] == '5') {
        row.errors += s.value;
      }
    } else if (s.name == "istio_request_duration_milliseconds_bucket") {
      const std::string& le = s.labels.at("le");
      double bound = le == "+Inf" ? std::numeric_limits<double>::infinity() : std::atof(le.c_str());
      row.buckets[bound] += s.value;
    }
  }
  return out;
}

}  // namespace

std::vector<StatRow> rowsFromScrapes(const std::vector<Sample>& before,
                                     const std::vector<Sample>& after, double seconds,
                                     const StatTarget& target) {
  auto start = totals(before, target);
  std::vector<StatRow> rows;
  for (const auto& [workload, end] : totals(after, target)) {
    const Totals& begin = start[workload];
    StatRow row;
    row.workload = workload;
    double requests = end.requests - begin.requests;
    double errors = end.errors - begin.errors;
    row.rps = seconds > 0 ? requests / seconds : 0;
    if (requests > 0) {
      row.success_percent = 100.0 * (requests - errors) / requests;
      std::vector<std::pair<double, double>> buckets;
      for (const auto& [le, count] : end.buckets) {
        auto b = begin.buckets.find(le);
        buckets.emplace_back(le, count - (b == begin.buckets.end() ? 0 : b->second));
      }
      row.p50_ms = bucketQuantile(0.5, buckets);
      row.p99_ms = bucketQuantile(0.99, buckets);
    }
    rows.push_back(row);
  }
  return rows;
}

std::string formatRows(const std::vector<StatRow>& rows) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof(line), "%-32s %9s %9s %9s %9s\n", "WORKLOAD", "SUCCESS", "RPS",
                "P50 ms", "P99 ms");
  out += line;
  auto number = [](double v, const char* format) {
    if (v < 0 || std::isnan(v)) return std::string("-");
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), format, v);
    return std::string(buffer);
  };
  for (const StatRow& r : rows) {
    std::snprintf(line, sizeof(line), "%-32s %9s %9s %9s %9s\n", r.workload.c_str(),
                  number(r.success_percent, "%.2f%%").c_str(), number(r.rps, "%.1f").c_str(),
                  number(r.p50_ms, "%.1f").c_str(), number(r.p99_ms, "%.1f").c_str());
    out += line;
  }
  if (rows.empty()) out += "(no requests recorded for it in the window)\n";
  return out;
}

}  // namespace weft::weftctl
