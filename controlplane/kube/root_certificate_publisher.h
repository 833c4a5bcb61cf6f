#pragma once

// Publishes the mesh's trust bundle as the ConfigMap `weft-ca-root-cert`
// (key root-cert.pem) in every namespace, as Istio publishes
// istio-ca-root-cert: weft-injector mounts it into each pod, and the sidecar
// uses it to verify weft-control's CA before its first certificate (after
// that the bundle arrives over SDS). Namespaces are listed and watched, so a
// new namespace gets the ConfigMap at once; every relist (at least every five
// minutes, when the watch times out) puts back a ConfigMap someone deleted or
// edited. Runs on a thread of its own with the blocking API client.

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "common/http/blocking_client.h"
#include "mesh/names.h"

namespace weft::control::kube {

class RootCertificatePublisher {
 public:
  RootCertificatePublisher(http::HttpEndpoint server, std::string bundle_pem);
  ~RootCertificatePublisher();

  void start();

 private:
  void loop();
  // Lists namespaces, publishes in each, then watches for new ones. False on
  // errors (the loop backs off); true to relist at once.
  bool listAndWatch(std::string* error);
  // Creates or corrects the ConfigMap in `ns`.
  bool publish(const std::string& ns, std::string* error);
  // One read and (if needed) one write; `conflict`: the write met a 409.
  bool publishOnce(const std::string& ns, bool* conflict, std::string* error);
  void publishOrWarn(const std::string& ns);

  http::HttpEndpoint server_;
  std::string bundle_pem_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  int active_fd_ = -1;
  std::thread thread_;
};

}  // namespace weft::control::kube
