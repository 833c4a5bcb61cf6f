// weftctl: the operator CLI.
//   weftctl check DIR                       validate config files (exit 1 on errors)
//   weftctl proxy-status [--control HOST:PORT]
//   weftctl config-dump POD|HOST:PORT [--control HOST:PORT]   a proxy's /config_dump
//   weftctl inject -f FILE|- [--config INJECTOR_CONFIG]        the webhook's mutation, offline

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "common/base/file.h"
#include "common/http/blocking_client.h"
#include "controlplane/config/config_dir.h"
#include "controlplane/config/parser.h"
#include "injector/offline_injector.h"

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
  std::fprintf(stderr,
               "usage:\n"
               "  weftctl check DIR                     validate a config directory\n"
               "  weftctl proxy-status [--control HOST:ADMIN_PORT]   (default 127.0.0.1:15014)\n"
               "  weftctl config-dump POD|HOST:ADMIN_PORT [--control HOST:ADMIN_PORT]\n"
               "                                        a proxy's live configuration\n"
               "  weftctl inject -f FILE|- [--config INJECTOR_CONFIG]\n"
               "                                        add the sidecar to the pods and pod\n"
               "                                        templates of manifests (YAML to stdout)\n");
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
      "%zu services, %zu endpoint slices, %zu HTTP routes, %zu destination policies: %zu "
      "error%s\n",
      set.services.size(), set.endpoint_slices.size(), set.http_routes.size(),
      set.destination_policies.size(), set.errors.size(), set.errors.size() == 1 ? "" : "s");
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

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string command = argv[1];
  if (command == "check" && argc == 3) return check(argv[2]);
  if (command == "inject") return inject(argc, argv);
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
