#include "controlplane/kube/status_writer.h"

#include "common/base/logging.h"
#include "controlplane/config/kinds.h"
#include "controlplane/status/status_json.h"

namespace weft::control::kube {

StatusWriter::StatusWriter(http::HttpEndpoint server, StatusLease lease)
    : server_(std::move(server)), lease_(std::move(lease)) {}

StatusWriter::~StatusWriter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StatusWriter::start() {
  thread_ = std::thread([this] { loop(); });
}

void StatusWriter::submit(std::vector<status::ObjectStatus> statuses) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    statuses_ = std::move(statuses);
    pending_ = true;
  }
  wake_.notify_all();
}

std::string StatusWriter::statusPath(const StatusSubject& subject) {
  for (const auto& kind : meshKinds()) {
    if (kind.kind != subject.kind) continue;
    // "/apis/GROUP/VERSION/PLURAL" -> "/apis/GROUP/VERSION/namespaces/NS/PLURAL/NAME/status"
    const std::string& list = kind.list_path;
    size_t slash = list.rfind('/');
    return list.substr(0, slash) + "/namespaces/" + subject.ns + list.substr(slash) + "/" +
           subject.name + "/status";
  }
  return "";
}

void StatusWriter::loop() {
  for (;;) {
    std::vector<status::ObjectStatus> statuses;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || pending_; });
      if (stop_) return;
      pending_ = false;
      statuses = std::move(statuses_);
    }
    std::string lease_error;
    if (!lease_.held(&lease_error)) {
      if (!lease_error.empty()) LOG_WARN("status: the Lease: %s", lease_error.c_str());
      written_.clear();  // another replica writes; on taking over, start afresh
      continue;
    }
    for (const auto& object : statuses) {
      if (status::upToDate(object)) {
        written_.erase(object.subject.key());
        continue;
      }
      // Already written from this resourceVersion: wait for the watch.
      auto it = written_.find(object.subject.key());
      if (it != written_.end() && it->second == object.subject.resource_version) continue;
      std::string error;
      if (write(object, &error)) {
        written_[object.subject.key()] = object.subject.resource_version;
      } else {
        LOG_WARN("status: %s: %s", object.subject.key().c_str(), error.c_str());
      }
    }
  }
}

bool StatusWriter::write(const status::ObjectStatus& object, std::string* error) {
  const std::string path = statusPath(object.subject);
  if (path.empty()) {
    *error = "no API path for kind " + object.subject.kind;
    return false;
  }
  nlohmann::json patch = {{"status", status::desiredStatus(object)}};
  if (!object.subject.resource_version.empty()) {
    patch["metadata"] = {{"resourceVersion", object.subject.resource_version}};
  }
  http::BlockingHttpClient client;
  if (!client.request(server_, "PATCH", path, patch.dump(), 10, error)) return false;
  std::string body = client.readAll();
  if (client.status() == 409) {
    *error = "changed meanwhile (409); its next version gets the status";
    return false;
  }
  if (client.status() / 100 != 2) {
    *error =
        "PATCH " + path + ": HTTP " + std::to_string(client.status()) + ": " + body.substr(0, 300);
    return false;
  }
  LOG_INFO("status: wrote %s", object.subject.key().c_str());
  return true;
}

}  // namespace weft::control::kube
