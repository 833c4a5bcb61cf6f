#include "controlplane/kube/kube_source.h"

#include <sys/socket.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/base/base64.h"
#include "common/base/file.h"
#include "common/base/logging.h"
#include "controlplane/config/kinds.h"
#include "controlplane/config/parser.h"
#include "controlplane/config/validate.h"
#include "controlplane/kube/watch.h"

namespace weft::control::kube {

namespace {

// The file's text, "" when it cannot be read (the connection then fails
// with the TLS error, which names the server).
std::string fileText(const std::string& path) {
  std::string text;
  common::readFile(path, &text);
  return text;
}

YAML::Node findNamed(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& item : list) {
    if (item["name"] && item["name"].Scalar() == name) return item;
  }
  return YAML::Node();
}

}  // namespace

bool loadKubeconfig(const std::string& path, http::HttpEndpoint* server, std::string* error) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    *error = path + ": " + e.what();
    return false;
  }
  std::string context_name = root["current-context"] ? root["current-context"].Scalar() : "";
  YAML::Node context = findNamed(root["contexts"], context_name)["context"];
  if (!context) {
    *error = path + ": current-context '" + context_name + "' not found";
    return false;
  }
  YAML::Node cluster = findNamed(root["clusters"], context["cluster"].Scalar())["cluster"];
  if (!cluster || !cluster["server"] || !server->setServer(cluster["server"].Scalar())) {
    *error = path + ": the context's cluster has no usable server URL";
    return false;
  }
  if (cluster["certificate-authority-data"]) {
    server->ca_pem =
        common::base64Decode(cluster["certificate-authority-data"].Scalar()).value_or("");
  } else if (cluster["certificate-authority"]) {
    server->ca_pem = fileText(cluster["certificate-authority"].Scalar());
  }
  server->insecure_skip_verify =
      cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>();
  if (context["user"]) {
    YAML::Node user = findNamed(root["users"], context["user"].Scalar())["user"];
    if (user && user["token"]) server->token = user["token"].Scalar();
    if (user && user["tokenFile"]) server->token_file = user["tokenFile"].Scalar();
  }
  return true;
}

bool inClusterConfig(http::HttpEndpoint* server, std::string* error) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr) {
    *error = "not in a cluster (KUBERNETES_SERVICE_HOST is not set)";
    return false;
  }
  const std::string dir = "/var/run/secrets/kubernetes.io/serviceaccount/";
  server->host = host;
  server->port = std::atoi(port);
  server->tls = true;
  server->ca_pem = fileText(dir + "ca.crt");
  server->token_file = dir + "token";
  return true;
}

KubeSource::KubeSource(event::Dispatcher& dispatcher, http::HttpEndpoint server,
                       uint64_t debounce_ms, OnConfig on_config)
    : dispatcher_(dispatcher),
      server_(std::move(server)),
      debounce_ms_(debounce_ms),
      on_config_(std::move(on_config)),
      kinds_(meshKinds()),
      debounce_(dispatcher, [this] { rebuild(); }),
      objects_(kinds_.size()),
      active_fds_(kinds_.size(), -1) {}

KubeSource::~KubeSource() {
  stop_ = true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int fd : active_fds_) {
      if (fd >= 0) shutdown(fd, SHUT_RDWR);  // wakes a thread blocked on a watch
    }
  }
  for (auto& t : threads_) t.join();
}

void KubeSource::start() {
  for (size_t i = 0; i < kinds_.size(); ++i) threads_.emplace_back([this, i] { watchLoop(i); });
}

void KubeSource::watchLoop(size_t index) {
  listAndWatchUntilStopped(stop_, kinds_[index].kind, [this, index](std::string* error) {
    return listAndWatch(index, error);
  });
}

// Returns true when the caller should relist at once (410 Gone), false on
// errors (the caller backs off).
bool KubeSource::listAndWatch(size_t index, std::string* error) {
  const MeshKind& kind = kinds_[index];
  http::BlockingHttpClient list;
  if (!list.get(server_, kind.list_path, 30, error)) return false;
  std::string body = list.readAll();
  if (list.status() == 404 && kind.api_version.rfind("weft.dev", 0) == 0) {
    *error = "the weft.dev CRDs are not installed (404)";
    return false;
  }
  if (list.status() != 200) {
    *error = "list " + kind.list_path + ": HTTP " + std::to_string(list.status()) + ": " +
             body.substr(0, 200);
    return false;
  }
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json["items"].is_array()) {
    *error = "list " + kind.list_path + ": not a list";
    return false;
  }
  std::string version = json["metadata"].value("resourceVersion", "");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    objects_[index].clear();
  }
  for (auto& item : json["items"]) store(index, "ADDED", item.dump());
  changed();
  LOG_INFO("kube: listed %zu %s (resourceVersion %s)", json["items"].size(), kind.kind.c_str(),
           version.c_str());

  WatchCallbacks callbacks;
  callbacks.active_fd = [this, index](int fd) {
    std::lock_guard<std::mutex> lock(mutex_);
    active_fds_[index] = fd;
  };
  callbacks.on_event = [this, index](const std::string& type, const nlohmann::json& object) {
    store(index, type, object.dump());
    changed();
  };
  for (;;) {
    switch (watchOnce(server_, kind.list_path, &version, stop_, callbacks, error)) {
      case WatchEnd::kTimedOut:
        continue;  // watch again from `version`
      case WatchEnd::kGone:
        LOG_INFO("kube: %s: resourceVersion %s is gone (410); relisting", kind.kind.c_str(),
                 version.c_str());
        return true;
      case WatchEnd::kError:
      case WatchEnd::kStopped:
        return false;
    }
  }
}

void KubeSource::store(size_t index, const std::string& type, const std::string& object_json) {
  auto object = nlohmann::json::parse(object_json, nullptr, false);
  if (!object.is_object()) return;
  // List items carry no apiVersion/kind.
  object["apiVersion"] = kinds_[index].api_version;
  object["kind"] = kinds_[index].kind;
  std::string key = object["metadata"].value("namespace", std::string("default")) + "/" +
                    object["metadata"].value("name", std::string());
  std::lock_guard<std::mutex> lock(mutex_);
  if (type == "DELETED") {
    objects_[index].erase(key);
  } else {
    objects_[index][key] = object.dump();
  }
}

void KubeSource::changed() {
  dispatcher_.post([this] { debounce_.enableMs(debounce_ms_); });
}

void KubeSource::rebuild() {
  auto set = std::make_shared<ConfigSet>();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < kinds_.size(); ++i) {
      for (const auto& [key, json] : objects_[i]) {
        // JSON is YAML: the directory source's parser reads these as well.
        parseYamlDocuments(json, "kube " + kinds_[i].kind + " " + key, *set);
      }
    }
  }
  validateConfig(*set);
  keepLastValidVersions(*set, current_.get());
  for (const auto& e : set->errors) LOG_WARN("config: %s", e.toString().c_str());
  LOG_INFO(
      "config: from the Kubernetes API: %zu services, %zu endpoint slices, %zu routes, "
      "%zu policies, %zu errors",
      set->services.size(), set->endpoint_slices.size(),
      set->http_routes.size() + set->grpc_routes.size(), set->destination_policies.size(),
      set->errors.size());
  current_ = set;
  on_config_(set);
}

}  // namespace weft::control::kube
