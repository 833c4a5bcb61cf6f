#include "controlplane/kube/root_certificate_publisher.h"

#include <sys/socket.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "proxy/common/logging.h"

namespace weft::control::kube {

RootCertificatePublisher::RootCertificatePublisher(ApiServer server, std::string bundle_pem)
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

bool RootCertificatePublisher::sleepUnlessStopped(int seconds) {
  for (int i = 0; i < seconds * 10 && !stop_; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return !stop_;
}

void RootCertificatePublisher::loop() {
  int backoff = 1;
  while (!stop_) {
    std::string error;
    if (listAndWatch(&error)) {
      backoff = 1;
      continue;
    }
    if (stop_) return;
    LOG_WARN("kube: publishing %s: %s; retrying in %d s", kConfigMapName, error.c_str(), backoff);
    if (!sleepUnlessStopped(backoff)) return;
    backoff = std::min(backoff * 2, 30);
  }
}

bool RootCertificatePublisher::publish(const std::string& ns, std::string* error) {
  std::string path = "/api/v1/namespaces/" + ns + "/configmaps";
  HttpStream current;
  if (!current.get(server_, path + "/" + kConfigMapName, 30, error)) return false;
  std::string body = current.readAll();
  nlohmann::json config_map = {{"apiVersion", "v1"},
                               {"kind", "ConfigMap"},
                               {"metadata",
                                {{"name", kConfigMapName},
                                 {"namespace", ns},
                                 {"labels", {{"app.kubernetes.io/managed-by", "weft-control"}}}}},
                               {"data", {{kKey, bundle_pem_}}}};
  std::string method = "POST";
  std::string target = path;
  if (current.status() == 200) {
    auto existing = nlohmann::json::parse(body, nullptr, false);
    if (existing.is_object() && existing["data"].is_object() &&
        existing["data"].value(kKey, std::string()) == bundle_pem_) {
      return true;  // already current
    }
    // Replace it, guarded by its resourceVersion: a concurrent writer gets a 409.
    method = "PUT";
    target = path + "/" + kConfigMapName;
    if (existing.is_object() && existing["metadata"].is_object()) {
      config_map["metadata"]["resourceVersion"] =
          existing["metadata"].value("resourceVersion", std::string());
    }
  } else if (current.status() != 404) {
    *error = "GET " + path + "/" + kConfigMapName + ": HTTP " + std::to_string(current.status()) +
             ": " + body.substr(0, 200);
    return false;
  }
  HttpStream write;
  if (!write.request(server_, method, target, config_map.dump(), 30, error)) return false;
  std::string answer = write.readAll();
  if (write.status() != 200 && write.status() != 201) {
    *error = method + " " + target + ": HTTP " + std::to_string(write.status()) + ": " +
             answer.substr(0, 200);
    return false;
  }
  LOG_INFO("kube: %s %s/%s", method == "POST" ? "created" : "updated", ns.c_str(), kConfigMapName);
  return true;
}

bool RootCertificatePublisher::listAndWatch(std::string* error) {
  HttpStream list;
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
    if (ns.empty() || terminating) continue;
    std::string why;
    if (!publish(ns, &why)) {
      LOG_WARN("kube: publishing %s in %s: %s", kConfigMapName, ns.c_str(), why.c_str());
    }
  }
  while (!stop_) {
    HttpStream watch;
    std::string path =
        "/api/v1/namespaces?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=" +
        version;
    if (!watch.get(server_, path, 330, error)) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      active_fd_ = watch.fd();
    }
    if (watch.status() == 410) return true;
    if (watch.status() != 200) {
      *error = "watch namespaces: HTTP " + std::to_string(watch.status());
      return false;
    }
    std::string line;
    while (!stop_ && watch.readLine(&line)) {
      auto event = nlohmann::json::parse(line, nullptr, false);
      if (!event.is_object()) continue;
      std::string type = event.value("type", "");
      const auto& object = event["object"];
      if (type == "ERROR") return object.value("code", 0) == 410;
      if (!object.is_object() || !object["metadata"].is_object()) continue;
      version = object["metadata"].value("resourceVersion", version);
      if (type != "ADDED") continue;
      std::string ns = object["metadata"].value("name", "");
      std::string why;
      if (!ns.empty() && !publish(ns, &why)) {
        LOG_WARN("kube: publishing %s in %s: %s", kConfigMapName, ns.c_str(), why.c_str());
      }
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      active_fd_ = -1;
    }
    // The watch timed out: relist, which also repairs edited or deleted copies
    // and retries the namespaces that failed.
    return true;
  }
  return false;
}

}  // namespace weft::control::kube
