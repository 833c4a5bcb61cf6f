#pragma once

// Which weft-control replica writes status: the holder of the Lease
// (coordination.k8s.io/v1) weft-control-status in weft-control's namespace,
// as Kubernetes controllers elect a leader. Every replica computes status,
// but each counts only the proxies connected to it: two writers would
// rewrite each other's counts for ever. The holder renews every few seconds;
// a replica takes the Lease over once it has gone unrenewed for its whole
// duration (the holder died); the resourceVersion settles races (409: lost).
// Blocking: for the status writer's thread.

#include <chrono>
#include <string>

#include "common/http/blocking_client.h"

namespace weft::control::kube {

class StatusLease {
 public:
  StatusLease(http::HttpEndpoint server, std::string ns, std::string identity);

  // Whether this replica holds the Lease now, acquiring or renewing it when due.
  bool held(std::string* error);
  const std::string& identity() const { return identity_; }

  static constexpr int kDurationS = 15;
  static constexpr int kRenewS = 5;

 private:
  // One GET and, if called for, one create or update.
  bool tryAcquireOrRenew(std::string* error);

  http::HttpEndpoint server_;
  std::string ns_, identity_;
  bool held_ = false;
  std::chrono::steady_clock::time_point renewed_{};
};

}  // namespace weft::control::kube
