#include "controlplane/kube/root_certificate_publisher.h"

#include <sys/socket.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/base/logging.h"
#include "controlplane/kube/watch.h"

namespace weft::control::kube {

RootCertificatePublisher::RootCertificatePublisher(http::HttpEndpoint server,
                                                   std::string bundle_pem)
    : server_(std::move(server)), bundle_pem_(std::move(bundle_pem)) {}

RootCertificatePublisher::~RootCertificatePublisher() {
  stop_ = true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (active_fd_ >= 0) ::shutdown(active_fd_, SHUT_RDWR);  // wakes a blocked watch
  }
  if (thread_.joinable()) thread_.join();
}

void RootCertificatePublisher::start() {
  thread_ = std::thread([this] { loop(); });
}

void RootCertificatePublisher::loop() {
  listAndWatchUntilStopped(stop_, std::string("publishing ") + mesh::kTrustBundleConfigMap,
                           [this](std::string* error) { return listAndWatch(error); });
}

bool RootCertificatePublisher::publish(const std::string& ns, std::string* error) {
  // A 409 is another writer between our read and our write (the other
  // weft-control replica, publishing the same root): read again, once.
  bool conflict = false;
  if (publishOnce(ns, &conflict, error)) return true;
  if (!conflict) return false;
  error->clear();
  return publishOnce(ns, &conflict, error);
}

bool RootCertificatePublisher::publishOnce(const std::string& ns, bool* conflict,
                                           std::string* error) {
  std::string path = "/api/v1/namespaces/" + ns + "/configmaps";
  http::BlockingHttpClient current;
  if (!current.get(server_, path + "/" + mesh::kTrustBundleConfigMap, 30, error)) return false;
  std::string body = current.readAll();
  nlohmann::json config_map = {{"apiVersion", "v1"},
                               {"kind", "ConfigMap"},
                               {"metadata",
                                {{"name", mesh::kTrustBundleConfigMap},
                                 {"namespace", ns},
                                 {"labels", {{"app.kubernetes.io/managed-by", "weft-control"}}}}},
                               {"data", {{mesh::kTrustBundleConfigMapKey, bundle_pem_}}}};
  std::string method = "POST";
  std::string target = path;
  if (current.status() == 200) {
    auto existing = nlohmann::json::parse(body, nullptr, false);
    if (existing.is_object() && existing["data"].is_object() &&
        existing["data"].value(mesh::kTrustBundleConfigMapKey, std::string()) == bundle_pem_) {
      return true;  // already current
    }
    // Replace it, guarded by its resourceVersion: a concurrent writer gets a 409.
    method = "PUT";
    target = path + "/" + mesh::kTrustBundleConfigMap;
    if (existing.is_object() && existing["metadata"].is_object()) {
      config_map["metadata"]["resourceVersion"] =
          existing["metadata"].value("resourceVersion", std::string());
    }
  } else if (current.status() != 404) {
    *error = "GET " + path + "/" + mesh::kTrustBundleConfigMap + ": HTTP " +
             std::to_string(current.status()) + ": " + body.substr(0, 200);
    return false;
  }
  http::BlockingHttpClient write;
  if (!write.request(server_, method, target, config_map.dump(), 30, error)) return false;
  std::string answer = write.readAll();
  if (write.status() != 200 && write.status() != 201) {
    *conflict = write.status() == 409;
    *error = method + " " + target + ": HTTP " + std::to_string(write.status()) + ": " +
             answer.substr(0, 200);
    return false;
  }
  LOG_INFO("kube: %s %s/%s", method == "POST" ? "created" : "updated", ns.c_str(),
           mesh::kTrustBundleConfigMap);
  return true;
}

void RootCertificatePublisher::publishOrWarn(const std::string& ns) {
  std::string why;
  if (!publish(ns, &why)) {
    // Retried on the next relist.
    LOG_WARN("kube: publishing %s in %s: %s", mesh::kTrustBundleConfigMap, ns.c_str(), why.c_str());
  }
}

bool RootCertificatePublisher::listAndWatch(std::string* error) {
  http::BlockingHttpClient list;
  if (!list.get(server_, "/api/v1/namespaces", 30, error)) return false;
  std::string body = list.readAll();
  if (list.status() != 200) {
    *error = "list namespaces: HTTP " + std::to_string(list.status()) + ": " + body.substr(0, 200);
    return false;
  }
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json["items"].is_array()) {
    *error = "list namespaces: not a list";
    return false;
  }
  std::string version = json["metadata"].value("resourceVersion", "");
  for (const auto& item : json["items"]) {
    if (stop_) return false;
    std::string ns = item["metadata"].value("name", "");
    bool terminating = item.contains("status") && item["status"].is_object() &&
                       item["status"].value("phase", std::string()) == "Terminating";
    if (!ns.empty() && !terminating) publishOrWarn(ns);
  }
  WatchCallbacks callbacks;
  callbacks.active_fd = [this](int fd) {
    std::lock_guard<std::mutex> lock(mutex_);
    active_fd_ = fd;
  };
  callbacks.on_event = [this](const std::string& type, const nlohmann::json& object) {
    if (type != "ADDED" || !object.contains("metadata")) return;
    std::string ns = object["metadata"].value("name", "");
    if (!ns.empty()) publishOrWarn(ns);
  };
  // However the watch ends, list again: a relist also repairs edited or
  // deleted copies and retries the namespaces that failed.
  WatchEnd end = watchOnce(server_, "/api/v1/namespaces", &version, stop_, callbacks, error);
  return end == WatchEnd::kTimedOut || end == WatchEnd::kGone;
}

}  // namespace weft::control::kube
