#pragma once

// weft-control's Prometheus metrics. prometheus-cpp stays in the .cc.

#include <memory>
#include <string>

#include "mesh/xds_types.h"

namespace weft::control {

class ControlMetrics {
 public:
  ControlMetrics();
  ~ControlMetrics();

  void proxyConnected();
  void proxyDisconnected();
  void push();
  void ack(mesh::XdsType type);
  void nack();
  // Seconds from a configuration-change push to the proxy's ACK of it.
  void pushAcked(double seconds);
  void configErrors(size_t count);
  void configApplied(double seconds_to_translate);
  // The CA: a certificate issued; a request refused for `reason`
  // (unauthenticated, permission_denied, invalid_request).
  void certificateIssued();
  void certificateRefused(const std::string& reason);
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::control
