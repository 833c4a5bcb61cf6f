#pragma once

// weft-injector's Prometheus metrics. prometheus-cpp stays in the .cc.

#include <memory>
#include <string>

namespace weft::injector {

class InjectorMetrics {
 public:
  InjectorMetrics();
  ~InjectorMetrics();

  // One admission request answered, by HTTP status.
  void request(int http_status);
  void injected();
  void skipped(const std::string& reason);
  // bad_request (HTTP 400), invalid_annotation, internal.
  void error(const std::string& reason);
  void certificateReloaded();
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::injector
