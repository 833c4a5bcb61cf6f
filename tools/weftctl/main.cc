// weftctl: the operator CLI.
//   weftctl check DIR                       validate config files (exit 1 on errors)
//   weftctl proxy-status [--control HOST:PORT]
//   weftctl config-dump POD|HOST:PORT [--control HOST:PORT]   a proxy's /config_dump
//   weftctl inject -f FILE|- [--config INJECTOR_CONFIG]        the webhook's mutation, offline
//   weftctl status KIND/NAME [-n NS] [--control HOST:PORT]    a route's or policy's status
//   weftctl stat workload/NAME|service/NAME [-n NS] [--window 1m]
//                (--prometheus HOST:PORT | --proxy HOST:ADMIN_PORT)   success rate, rps, p50/p99

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "common/base/file.h"
#include "common/http/blocking_client.h"
#include "controlplane/config/config_dir.h"
#include "controlplane/config/parser.h"
#include "injector/offline_injector.h"
#include "tools/weftctl/stat.h"

namespace {

// GET from a weft admin endpoint (plain HTTP on loopback).
bool adminGet(const std::string& host, int port, const std::string& path, int* status,
              std::string* body, std::string* error) {
  weft::http::HttpEndpoint endpoint;
  endpoint.host = host;
  endpoint.port = port;
  endpoint.tls = false;
  weft::http::BlockingHttpClient client;
  if (!client.get(endpoint, path, 10, error)) return false;
  *status = client.status();
  *body = client.readAll();
  return true;
}

int usage() {
  std::fprintf(
      stderr,
      "usage:\n"
      "  weftctl check DIR                     validate a config directory\n"
      "  weftctl proxy-status [--control HOST:ADMIN_PORT]   (default 127.0.0.1:15014)\n"
      "  weftctl config-dump POD|HOST:ADMIN_PORT [--control HOST:ADMIN_PORT]\n"
      "                                        a proxy's live configuration\n"
      "  weftctl inject -f FILE|- [--config INJECTOR_CONFIG]\n"
      "                                        add the sidecar to the pods and pod\n"
      "                                        templates of manifests (YAML to stdout)\n"
      "  weftctl status KIND/NAME [-n NAMESPACE] [--control HOST:ADMIN_PORT]\n"
      "                                        whether weft took an HTTPRoute, GRPCRoute,\n"
      "                                        DestinationPolicy, AuthorizationPolicy or\n"
      "                                        MeshConfig, and\n"
      "                                        how many proxies have ACKed it\n"
      "  weftctl stat workload/NAME|service/NAME [-n NAMESPACE] [--window 1m]\n"
      "               (--prometheus HOST:PORT | --proxy HOST:ADMIN_PORT)\n"
      "                                        success rate, requests/s, p50, p99 per\n"
      "                                        workload, as the callee's sidecar saw them\n");
  return 2;
}

bool splitHostPort(const std::string& s, std::string* host, int* port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  *host = s.substr(0, colon);
  *port = std::atoi(s.c_str() + colon + 1);
  return *port > 0;
}

int check(const std::string& dir) {
  weft::control::ConfigSet set = weft::control::loadConfigDir(dir);
  for (const auto& e : set.errors) std::printf("%s\n", e.toString().c_str());
  std::printf(
      "%zu services, %zu endpoint slices, %zu HTTP routes, %zu gRPC routes, %zu destination "
      "policies: %zu error%s\n",
      set.services.size(), set.endpoint_slices.size(), set.http_routes.size(),
      set.grpc_routes.size(), set.destination_policies.size(), set.errors.size(),
      set.errors.size() == 1 ? "" : "s");
  return set.errors.empty() ? 0 : 1;
}

int proxyStatus(const std::string& control) {
  std::string host, body, error;
  int port = 0, status = 0;
  if (!splitHostPort(control, &host, &port)) return usage();
  if (!adminGet(host, port, "/debug/syncz", &status, &body, &error)) {
    std::fprintf(stderr, "weftctl: %s\n", error.c_str());
    return 1;
  }
  auto proxies = nlohmann::json::parse(body, nullptr, false);
  if (!proxies.is_array()) {
    std::fprintf(stderr, "weftctl: unexpected answer from %s\n", control.c_str());
    return 1;
  }
  std::printf("%-40s %-6s %-8s %-8s %-8s %-8s %-8s\n", "PROXY", "XDS", "CDS", "EDS", "LDS", "RDS",
              "SDS");
  int not_synced = 0;
  for (const auto& p : proxies) {
    std::printf("%-40s %-6s", p["node_id"].get<std::string>().c_str(),
                p["protocol"].get<std::string>().c_str());
    for (const char* type : {"CDS", "EDS", "LDS", "RDS", "SDS"}) {
      std::string state = "-";
      if (p["types"].contains(type)) state = p["types"][type]["status"].get<std::string>();
      if (state != "SYNCED" && state != "-") ++not_synced;
      std::printf(" %-8s", state.c_str());
    }
    std::printf("\n");
    for (const char* type : {"CDS", "EDS", "LDS", "RDS", "SDS"}) {
      if (p["types"].contains(type) && !p["types"][type]["error"].get<std::string>().empty()) {
        std::printf("  %s NACK: %s\n", type, p["types"][type]["error"].get<std::string>().c_str());
      }
    }
  }
  return not_synced == 0 ? 0 : 3;
}

// The kind as weft-control names it, from what an operator types
// (httproute, HTTPRoute, ...); "" when weft writes no status for it.
std::string statusKind(std::string kind) {
  for (auto& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* known :
       {"HTTPRoute", "GRPCRoute", "DestinationPolicy", "AuthorizationPolicy", "MeshConfig"}) {
    std::string lower = known;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (kind == lower || kind == lower + "s") return known;
  }
  return "";
}

void printConditions(const nlohmann::json& conditions, const char* indent, int* not_true) {
  for (const auto& c : conditions) {
    std::string state = c.value("status", "");
    if (state != "True") ++*not_true;
    std::printf("%s%-20s %-8s %-22s %s\n", indent, c.value("type", "").c_str(), state.c_str(),
                c.value("reason", "").c_str(), c.value("message", "").c_str());
  }
}

// weftctl status KIND/NAME [-n NS] [--control HOST:PORT]: exit 0 when every
// condition is True, 3 when one is not.
int objectStatus(int argc, char** argv) {
  std::string target = argv[2], ns = "default", control = "127.0.0.1:15014";
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "-n" || flag == "--namespace") {
      ns = argv[i + 1];
    } else if (flag == "--control") {
      control = argv[i + 1];
    } else {
      return usage();
    }
  }
  size_t slash = target.find('/');
  std::string kind = slash == std::string::npos ? "" : statusKind(target.substr(0, slash));
  if (kind.empty()) {
    std::fprintf(stderr,
                 "weftctl status: '%s': give KIND/NAME, KIND one of httproute, grpcroute, "
                 "destinationpolicy, authorizationpolicy, meshconfig\n",
                 target.c_str());
    return 2;
  }
  std::string object = kind + "/" + ns + "/" + target.substr(slash + 1);
  std::string host, body, error;
  int port = 0, status = 0;
  if (!splitHostPort(control, &host, &port)) return usage();
  if (!adminGet(host, port, "/debug/statusz?object=" + object, &status, &body, &error)) {
    std::fprintf(stderr, "weftctl status: %s\n", error.c_str());
    return 1;
  }
  auto objects = nlohmann::json::parse(body, nullptr, false);
  if (status != 200 || !objects.is_array() || objects.empty()) {
    std::fprintf(stderr, "weftctl status: %s",
                 status == 404 ? body.c_str() : "unexpected answer\n");
    return 1;
  }
  int not_true = 0;
  for (const auto& o : objects) {
    std::printf("%s %s/%s (generation %lld)\n", o.value("kind", "").c_str(),
                o.value("namespace", "").c_str(), o.value("name", "").c_str(),
                static_cast<long long>(o.value("generation", 0LL)));
    const auto& st = o["status"];
    if (st.contains("parents")) {
      for (const auto& parent : st["parents"]) {
        const auto& ref = parent["parentRef"];
        std::string where = ref.value("kind", "") + " " +
                            (ref.contains("namespace") ? ref.value("namespace", "") + "/" : "") +
                            ref.value("name", "");
        if (ref.contains("port")) where += ":" + std::to_string(ref.value("port", 0));
        std::printf("  parent %s (%s)\n", where.c_str(),
                    parent.value("controllerName", "").c_str());
        if (parent.value("controllerName", "") == "weft.dev/mesh") {
          printConditions(parent["conditions"], "    ", &not_true);
        }
      }
    }
    if (st.contains("conditions")) printConditions(st["conditions"], "  ", &not_true);
  }
  return not_true == 0 ? 0 : 3;
}

// POD (or POD.NAMESPACE): the proxy's admin address comes from the control
// plane, which the proxy tells it at connect time. HOST:PORT works directly.
bool resolveProxy(const std::string& target, const std::string& control, std::string* address) {
  std::string host, body, error;
  int port = 0, status = 0;
  if (!splitHostPort(control, &host, &port) ||
      !adminGet(host, port, "/debug/syncz", &status, &body, &error)) {
    std::fprintf(stderr, "weftctl: cannot ask the control plane at %s: %s\n", control.c_str(),
                 error.c_str());
    return false;
  }
  auto proxies = nlohmann::json::parse(body, nullptr, false);
  if (!proxies.is_array()) return false;
  for (const auto& p : proxies) {
    std::string id = p["node_id"].get<std::string>();
    if (id == target || id.rfind(target + ".", 0) == 0) {
      *address = p.value("admin_address", "");
      return !address->empty();
    }
  }
  std::fprintf(stderr, "weftctl: no connected proxy named %s\n", target.c_str());
  return false;
}

int configDump(std::string target, const std::string& control) {
  std::string host, body, error;
  int port = 0, status = 0;
  if (!splitHostPort(target, &host, &port) && !resolveProxy(target, control, &target)) return 1;
  if (!splitHostPort(target, &host, &port)) return usage();
  if (!adminGet(host, port, "/config_dump", &status, &body, &error)) {
    std::fprintf(stderr, "weftctl: %s\n", error.c_str());
    return 1;
  }
  std::fwrite(body.data(), 1, body.size(), stdout);
  return status == 200 ? 0 : 1;
}

int inject(int argc, char** argv) {
  std::string file, config_path;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "-f" || flag == "--filename") {
      file = argv[i + 1];
    } else if (flag == "--config") {
      config_path = argv[i + 1];
    } else {
      return usage();
    }
  }
  if (file.empty() || argc % 2 != 0) return usage();
  std::string text, error;
  if (file == "-") {
    std::ostringstream in;
    in << std::cin.rdbuf();
    text = in.str();
  } else if (!weft::common::readFile(file, &text)) {
    std::fprintf(stderr, "weftctl: cannot read %s\n", file.c_str());
    return 1;
  }
  weft::injector::InjectorConfig config;
  if (!config_path.empty()) {
    std::string config_text;
    if (!weft::common::readFile(config_path, &config_text)) {
      std::fprintf(stderr, "weftctl: cannot read --config %s\n", config_path.c_str());
      return 1;
    }
    if (!weft::injector::parseInjectorConfig(config_text, &config, &error)) {
      std::fprintf(stderr, "weftctl: %s: %s\n", config_path.c_str(), error.c_str());
      return 1;
    }
  }
  weft::injector::OfflineResult result;
  if (!weft::injector::injectManifests(text, config, &result, &error)) {
    std::fprintf(stderr, "weftctl: %s: %s\n", file == "-" ? "stdin" : file.c_str(), error.c_str());
    return 1;
  }
  std::fwrite(result.yaml.data(), 1, result.yaml.size(), stdout);
  if (!result.warnings.empty()) std::fprintf(stderr, "%s", result.warnings.c_str());
  return 0;
}

}  // namespace

std::string urlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

// One instant query: destination_workload -> value.
bool promQuery(const std::string& host, int port, const std::string& expr,
               std::map<std::string, double>* out, std::string* error) {
  int status = 0;
  std::string body;
  if (!adminGet(host, port, "/api/v1/query?query=" + urlEncode(expr), &status, &body, error)) {
    return false;
  }
  auto answer = nlohmann::json::parse(body, nullptr, false);
  if (status != 200 || !answer.is_object() || answer.value("status", "") != "success") {
    *error = "Prometheus answered " + std::to_string(status) + ": " + body.substr(0, 200);
    return false;
  }
  for (const auto& r : answer["data"]["result"]) {
    std::string workload = r["metric"].value("destination_workload", "");
    (*out)[workload] = std::atof(r["value"][1].get<std::string>().c_str());
  }
  return true;
}

// "10s", "2m" -> seconds (the sidecar source waits that long between scrapes).
double windowSeconds(const std::string& window) {
  double n = std::atof(window.c_str());
  if (!window.empty() && window.back() == 'm') return n * 60;
  return n;
}

int stat(int argc, char** argv) {
  namespace w = weft::weftctl;
  w::StatTarget target;
  std::string error, prometheus, proxy;
  if (argc < 3 || !w::parseStatTarget(argv[2], &target, &error)) {
    if (!error.empty()) std::fprintf(stderr, "weftctl stat: %s\n", error.c_str());
    return usage();
  }
  bool window_set = false;
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "-n" || flag == "--namespace") {
      target.ns = argv[i + 1];
    } else if (flag == "--window") {
      target.window = argv[i + 1];
      window_set = true;
    } else if (flag == "--prometheus") {
      prometheus = argv[i + 1];
    } else if (flag == "--proxy") {
      proxy = argv[i + 1];
    } else {
      return usage();
    }
  }
  if (argc % 2 == 0 || prometheus.empty() == proxy.empty()) return usage();
  std::string host;
  int port = 0;
  std::vector<w::StatRow> rows;
  if (!prometheus.empty()) {
    if (!splitHostPort(prometheus, &host, &port)) return usage();
    std::map<std::string, double> rps, success, p50, p99;
    if (!promQuery(host, port, w::rpsQuery(target), &rps, &error) ||
        !promQuery(host, port, w::successQuery(target), &success, &error) ||
        !promQuery(host, port, w::quantileQuery(target, 0.5), &p50, &error) ||
        !promQuery(host, port, w::quantileQuery(target, 0.99), &p99, &error)) {
      std::fprintf(stderr, "weftctl stat: %s\n", error.c_str());
      return 1;
    }
    for (const auto& [workload, value] : rps) {
      w::StatRow row;
      row.workload = workload;
      row.rps = value;
      if (value > 0) {
        row.success_percent = success.count(workload) ? success[workload] : -1;
        row.p50_ms = p50.count(workload) ? p50[workload] : -1;
        row.p99_ms = p99.count(workload) ? p99[workload] : -1;
      }
      rows.push_back(row);
    }
  } else {
    if (!splitHostPort(proxy, &host, &port)) return usage();
    if (!window_set) target.window = "10s";
    double seconds = windowSeconds(target.window);
    if (seconds <= 0 || seconds > 3600) {
      std::fprintf(stderr, "weftctl stat: --window '%s' is not 1s..60m\n", target.window.c_str());
      return 2;
    }
    int status = 0;
    std::string before, after;
    if (!adminGet(host, port, "/stats/prometheus", &status, &before, &error)) {
      std::fprintf(stderr, "weftctl stat: %s\n", error.c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
    if (!adminGet(host, port, "/stats/prometheus", &status, &after, &error)) {
      std::fprintf(stderr, "weftctl stat: %s\n", error.c_str());
      return 1;
    }
    rows =
        w::rowsFromScrapes(w::parseExposition(before), w::parseExposition(after), seconds, target);
  }
  std::printf("%s %s.%s over %s (reporter=destination, from %s)\n", target.kind.c_str(),
              target.name.c_str(), target.ns.c_str(), target.window.c_str(),
              prometheus.empty() ? ("the sidecar at " + proxy).c_str()
                                 : ("Prometheus at " + prometheus).c_str());
  std::fputs(w::formatRows(rows).c_str(), stdout);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string command = argv[1];
  if (command == "check" && argc == 3) return check(argv[2]);
  if (command == "inject") return inject(argc, argv);
  if (command == "stat") return stat(argc, argv);
  if (command == "status" && argc >= 3) return objectStatus(argc, argv);
  if (command == "proxy-status") {
    std::string control = "127.0.0.1:15014";
    if (argc == 4 && std::string(argv[2]) == "--control") control = argv[3];
    return proxyStatus(control);
  }
  if (command == "config-dump" && (argc == 3 || argc == 5)) {
    std::string control = "127.0.0.1:15014";
    if (argc == 5 && std::string(argv[3]) == "--control") control = argv[4];
    return configDump(argv[2], control);
  }
  return usage();
}
