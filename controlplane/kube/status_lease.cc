#include "controlplane/kube/status_lease.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "common/base/logging.h"

namespace weft::control::kube {

namespace {

constexpr char kLeaseName[] = "weft-control-status";

// metav1.MicroTime: RFC 3339 with microseconds, UTC.
std::string microTimeNow() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()) %
                std::chrono::seconds(1);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof(out), "%s.%06lldZ", buf, static_cast<long long>(micros.count()));
  return out;
}

// Seconds since the epoch of an RFC 3339 UTC time (fraction ignored), or 0.
std::time_t parseTime(const std::string& text) {
  std::tm tm{};
  if (strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return 0;
  return timegm(&tm);
}

}  // namespace

StatusLease::StatusLease(http::HttpEndpoint server, std::string ns, std::string identity)
    : server_(std::move(server)), ns_(std::move(ns)), identity_(std::move(identity)) {}

bool StatusLease::held(std::string* error) {
  auto now = std::chrono::steady_clock::now();
  if (held_ && now - renewed_ < std::chrono::seconds(kRenewS)) return true;
  bool was = held_;
  held_ = tryAcquireOrRenew(error);
  if (held_) renewed_ = now;
  if (held_ != was) {
    LOG_INFO("status: %s the Lease %s/%s (%s)", held_ ? "holding" : "not holding", ns_.c_str(),
             kLeaseName, identity_.c_str());
  }
  return held_;
}

bool StatusLease::tryAcquireOrRenew(std::string* error) {
  const std::string collection = "/apis/coordination.k8s.io/v1/namespaces/" + ns_ + "/leases";
  const std::string path = collection + "/" + kLeaseName;
  http::BlockingHttpClient get;
  if (!get.get(server_, path, 10, error)) return false;
  std::string body = get.readAll();
  const std::string now = microTimeNow();
  if (get.status() == 404) {
    nlohmann::json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                            {"kind", "Lease"},
                            {"metadata", {{"name", kLeaseName}, {"namespace", ns_}}},
                            {"spec",
                             {{"holderIdentity", identity_},
                              {"leaseDurationSeconds", kDurationS},
                              {"acquireTime", now},
                              {"renewTime", now},
                              {"leaseTransitions", 0}}}};
    http::BlockingHttpClient create;
    if (!create.request(server_, "POST", collection, lease.dump(), 10, error)) return false;
    create.readAll();
    return create.status() == 201;  // 409: another replica created it first
  }
  if (get.status() != 200) {
    *error = "GET " + path + ": HTTP " + std::to_string(get.status());
    return false;
  }
  nlohmann::json lease = nlohmann::json::parse(body, nullptr, false);
  if (!lease.is_object() || !lease.contains("spec")) {
    *error = "GET " + path + ": not a Lease";
    return false;
  }
  nlohmann::json& spec = lease["spec"];
  const std::string holder = spec.value("holderIdentity", "");
  const int duration = spec.value("leaseDurationSeconds", kDurationS);
  const std::time_t renewed = parseTime(spec.value("renewTime", ""));
  if (holder != identity_) {
    if (!holder.empty() && std::time(nullptr) < renewed + duration) return false;  // alive
    spec["holderIdentity"] = identity_;
    spec["acquireTime"] = now;
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  spec["renewTime"] = now;
  spec["leaseDurationSeconds"] = kDurationS;
  // The GET's resourceVersion stays in metadata: a replica that wrote
  // meanwhile makes this a 409.
  http::BlockingHttpClient update;
  if (!update.request(server_, "PUT", path, lease.dump(), 10, error)) return false;
  update.readAll();
  return update.status() == 200;
}

}  // namespace weft::control::kube
