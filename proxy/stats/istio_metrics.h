#pragma once

// Istio's standard metrics (names, labels and buckets exactly), so Kiali,
// Flagger's and Argo Rollouts' Istio providers and Istio's dashboards read a
// weft mesh unchanged. IstioMetrics owns the families (process-wide, beside
// the weft_* ones); each worker records through its own IstioRecorder, which
// caches the series of every label set it has seen, so a request costs one
// key build, one hash lookup and four atomic updates.
//
// Cardinality is bounded: label values are the two workloads' metadata
// (validated: bounded alphabet and length), the service (from the cluster, or
// the caller's header), the response code, gRPC status and response flags,
// never a path or free-form header. On top of that, at most `max_label_sets`
// label sets are made per process; past it a request is counted only in
// weft_istio_label_sets_overflow_total.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "proxy/workload/workload_metadata.h"

namespace prometheus {
template <typename T>
class Family;
class Counter;
class Histogram;
class Registry;
}  // namespace prometheus

namespace weft::stats {

enum class Reporter { kSource, kDestination };

// One finished HTTP request, as a sidecar saw it.
struct IstioRequest {
  Reporter reporter = Reporter::kSource;
  // The peer sidecar's x-weft-peer-metadata as received (unparsed; empty:
  // the peer is unknown). Parsed only when its label set is new.
  std::string_view peer_header;
  // The peer's SPIFFE ID from the TLS handshake (destination reporter).
  std::string_view peer_principal;
  // The destination Service's FQDN (source reporter: from the cluster;
  // destination reporter: empty, the caller's header says it).
  std::string_view service;
  bool mutual_tls = false;  // destination reporter: the caller used mTLS
  bool grpc = false;
  int response_code = 0;  // 0: no response reached the client
  int grpc_status = -1;   // -1: none (not gRPC, or the stream broke)
  uint32_t response_flags = 0;
  double duration_ms = 0;
  uint64_t request_bytes = 0;   // request body
  uint64_t response_bytes = 0;  // response body
};

// One TCP connection's labels (Istio's TCP metrics carry no response code).
struct IstioConnection {
  Reporter reporter = Reporter::kSource;
  std::string_view peer_header;
  std::string_view peer_principal;
  std::string_view service;
  bool mutual_tls = false;
  uint32_t response_flags = 0;
};

// The TCP series of one label set.
struct IstioTcpSeries {
  prometheus::Counter* opened;
  prometheus::Counter* closed;
  prometheus::Counter* sent;
  prometheus::Counter* received;
};

class IstioMetrics {
 public:
  using Labels = std::map<std::string, std::string>;  // Istio's label names to values

  IstioMetrics(prometheus::Registry& registry, size_t max_label_sets);
  ~IstioMetrics();

  // This sidecar's workload: set once at start, before any worker records.
  void setLocal(workload::WorkloadMetadata local);
  const workload::WorkloadMetadata& local() const { return local_; }
  // encodePeerMetadata(local()), without a service: the response header a
  // destination sends back, and the start of a source's request header.
  const std::string& localHeader() const { return local_header_; }

 private:
  friend class IstioRecorder;
  struct Families;
  struct RequestSeries {
    prometheus::Counter* requests;
    prometheus::Histogram* duration;
    prometheus::Histogram* request_bytes;
    prometheus::Histogram* response_bytes;
  };
  // The series for `labels` (Istio's label names to values), made if new
  // and under the cap; false when over the cap.
  bool requestSeries(const std::string& key, const Labels& labels, RequestSeries* out);
  bool tcpSeries(const std::string& key, const Labels& labels, IstioTcpSeries* out);
  // True when `key` was made before or may be made now (under the cap).
  bool admit(const std::string& key);

  std::unique_ptr<Families> families_;
  const size_t max_label_sets_;
  std::mutex mutex_;  // the made-series set; taken only when a worker meets a new label set
  std::unordered_set<std::string> made_;
  workload::WorkloadMetadata local_;
  std::string local_header_;
};

// A worker's view: not thread-safe, one per worker.
class IstioRecorder {
 public:
  explicit IstioRecorder(IstioMetrics& metrics) : metrics_(metrics) {}

  void recordRequest(const IstioRequest& request);
  // The series a TCP connection updates as bytes flow (opened counted
  // here); nullptr over the cap.
  const IstioTcpSeries* openConnection(const IstioConnection& connection);
  // Counts the close, on the series of the flags it ended with.
  void closeConnection(const IstioConnection& connection);

  IstioMetrics& metrics() { return metrics_; }

 private:
  // The common labels of both kinds (reporter, both workloads, service,
  // security policy, flags), from the peer's header parsed now.
  IstioMetrics::Labels commonLabels(Reporter reporter, std::string_view peer_header,
                                    std::string_view peer_principal, std::string_view service,
                                    bool mutual_tls, uint32_t response_flags) const;
  void connectionKey(const IstioConnection& connection);
  const IstioTcpSeries* connectionSeries(const IstioConnection& connection);

  IstioMetrics& metrics_;
  std::string key_;  // reused: no allocation per request once warm
  std::unordered_map<std::string, IstioMetrics::RequestSeries> requests_;
  std::unordered_map<std::string, IstioTcpSeries> connections_;
};

}  // namespace weft::stats
