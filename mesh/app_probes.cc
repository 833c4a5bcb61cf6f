#include "mesh/app_probes.h"

#include <nlohmann/json.hpp>

namespace weft::mesh {

using json = nlohmann::json;

namespace {

constexpr uint32_t kMaxTimeoutSeconds = 3600;

bool readPort(const json& action, const std::string& where, uint16_t* port, std::string* error) {
  const auto it = action.find("port");
  if (it == action.end() || !it->is_number_integer() || *it < 1 || *it > 65535) {
    *error = where + ".port: not a port number (1-65535)";
    return false;
  }
  *port = static_cast<uint16_t>(it->get<int>());
  return true;
}

bool readString(const json& object, const char* key, const std::string& where, std::string* out,
                std::string* error) {
  const auto it = object.find(key);
  if (it == object.end()) return true;
  if (!it->is_string()) {
    *error = where + "." + key + ": not a string";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

bool onlyKeys(const json& object, std::initializer_list<const char*> allowed,
              const std::string& where, std::string* error) {
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const char* name : allowed) known = known || key == name;
    if (!known) {
      *error = where + "." + key + ": unknown field";
      return false;
    }
  }
  return true;
}

bool parseHttpGet(const json& action, const std::string& where, AppProbe* probe,
                  std::string* error) {
  if (!onlyKeys(action, {"path", "port", "scheme", "host", "httpHeaders"}, where, error) ||
      !readPort(action, where, &probe->port, error) ||
      !readString(action, "path", where, &probe->path, error) ||
      !readString(action, "host", where, &probe->host, error)) {
    return false;
  }
  if (probe->path.empty() || probe->path[0] != '/') probe->path = "/" + probe->path;
  std::string scheme = "HTTP";
  if (!readString(action, "scheme", where, &scheme, error)) return false;
  if (scheme != "HTTP" && scheme != "HTTPS") {
    *error = where + ".scheme: '" + scheme + "' is not HTTP or HTTPS";
    return false;
  }
  probe->https = scheme == "HTTPS";
  const auto headers = action.find("httpHeaders");
  if (headers == action.end()) return true;
  if (!headers->is_array()) {
    *error = where + ".httpHeaders: not a list";
    return false;
  }
  for (size_t i = 0; i < headers->size(); ++i) {
    const json& header = (*headers)[i];
    std::string at = where + ".httpHeaders[" + std::to_string(i) + "]";
    std::string name, value;
    if (!header.is_object() || !readString(header, "name", at, &name, error) ||
        !readString(header, "value", at, &value, error)) {
      if (error->empty()) *error = at + ": not a {name, value} object";
      return false;
    }
    if (name.empty()) {
      *error = at + ".name: empty";
      return false;
    }
    probe->headers.emplace_back(std::move(name), std::move(value));
  }
  return true;
}

bool parseOne(const std::string& path, const json& entry, AppProbe* probe, std::string* error) {
  std::string where = "probe " + path;
  if (path.rfind(kAppHealthPathPrefix, 0) != 0) {
    *error = where + ": the path does not start with " + kAppHealthPathPrefix;
    return false;
  }
  if (!entry.is_object()) {
    *error = where + ": not an object";
    return false;
  }
  if (!onlyKeys(entry, {"httpGet", "tcpSocket", "grpc", "timeoutSeconds"}, where, error)) {
    return false;
  }
  if (const auto timeout = entry.find("timeoutSeconds"); timeout != entry.end()) {
    if (!timeout->is_number_integer() || *timeout < 1 || *timeout > kMaxTimeoutSeconds) {
      *error = where + ".timeoutSeconds: not a number of seconds (1-3600)";
      return false;
    }
    probe->timeout_seconds = timeout->get<uint32_t>();
  }
  int actions = entry.contains("httpGet") + entry.contains("tcpSocket") + entry.contains("grpc");
  if (actions != 1) {
    *error = where + ": needs exactly one of httpGet, tcpSocket, grpc";
    return false;
  }
  if (entry.contains("httpGet")) {
    probe->kind = AppProbe::Kind::kHttpGet;
    const json& action = entry["httpGet"];
    if (!action.is_object()) {
      *error = where + ".httpGet: not an object";
      return false;
    }
    return parseHttpGet(action, where + ".httpGet", probe, error);
  }
  const bool tcp = entry.contains("tcpSocket");
  const json& action = tcp ? entry["tcpSocket"] : entry["grpc"];
  std::string at = where + (tcp ? ".tcpSocket" : ".grpc");
  if (!action.is_object()) {
    *error = at + ": not an object";
    return false;
  }
  probe->kind = tcp ? AppProbe::Kind::kTcpSocket : AppProbe::Kind::kGrpc;
  if (tcp)
    return onlyKeys(action, {"port"}, at, error) && readPort(action, at, &probe->port, error);
  return onlyKeys(action, {"port", "service"}, at, error) &&
         readPort(action, at, &probe->port, error) &&
         readString(action, "service", at, &probe->grpc_service, error);
}

}  // namespace

std::string appHealthPath(const std::string& container, const std::string& kind) {
  return std::string(kAppHealthPathPrefix) + container + "/" + kind;
}

std::string appProbesToJson(const AppProbes& probes) {
  json out = json::object();
  for (const auto& [path, probe] : probes) {
    json entry = {{"timeoutSeconds", probe.timeout_seconds}};
    switch (probe.kind) {
      case AppProbe::Kind::kHttpGet: {
        json action = {
            {"path", probe.path}, {"port", probe.port}, {"scheme", probe.https ? "HTTPS" : "HTTP"}};
        if (!probe.host.empty()) action["host"] = probe.host;
        if (!probe.headers.empty()) {
          json headers = json::array();
          for (const auto& [name, value] : probe.headers) {
            headers.push_back({{"name", name}, {"value", value}});
          }
          action["httpHeaders"] = headers;
        }
        entry["httpGet"] = action;
        break;
      }
      case AppProbe::Kind::kTcpSocket:
        entry["tcpSocket"] = {{"port", probe.port}};
        break;
      case AppProbe::Kind::kGrpc:
        entry["grpc"] = {{"port", probe.port}, {"service", probe.grpc_service}};
        break;
    }
    out[path] = entry;
  }
  return out.dump();
}

bool parseAppProbes(std::string_view text, AppProbes* probes, std::string* error) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    *error = "not a JSON object of probes by path";
    return false;
  }
  for (const auto& [path, entry] : parsed.items()) {
    AppProbe probe;
    error->clear();
    if (!parseOne(path, entry, &probe, error)) return false;
    (*probes)[path] = std::move(probe);
  }
  return true;
}

}  // namespace weft::mesh
