#pragma once

// The proxy's metrics, registered in a prometheus-cpp registry. Handles are
// resolved once per listener / cluster at config time, so the request path
// only does an atomic add. prometheus-cpp stays out of this header to keep
// it off the hot include paths.

#include <cstdint>
#include <memory>
#include <string>

#include "common/tls/handshake_observer.h"

namespace prometheus {
template <typename T>
class Family;
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace weft::stats {

struct ListenerStats {
  prometheus::Counter* rq_1xx;
  prometheus::Counter* rq_2xx;
  prometheus::Counter* rq_3xx;
  prometheus::Counter* rq_4xx;
  prometheus::Counter* rq_5xx;
  prometheus::Gauge* cx_active;
  prometheus::Counter* cx_total;
  prometheus::Counter* rbac_allowed;  // by envoy.filters.http.rbac / network.rbac
  prometheus::Counter* rbac_denied;
  prometheus::Counter* rq_downstream_timeout;  // request_timeout / stream_idle_timeout
  // weft_downstream_rq_response_flags_total{listener, flag}: series made on
  // first use (most listeners never see most flags).
  prometheus::Family<prometheus::Counter>* rq_response_flags;
  // weft_protocol_detections_total{listener, result}: how inspected
  // connections were told apart (made on first use).
  prometheus::Family<prometheus::Counter>* protocol_detections;
  std::string name;
};

struct ClusterStats {
  prometheus::Histogram* rq_time_seconds;
  prometheus::Counter* rq_total;
  prometheus::Counter* rq_5xx;
  prometheus::Counter* cx_connect_fail;
  prometheus::Counter* rq_overflow;
  prometheus::Counter* rq_timeout;
  prometheus::Gauge* rq_active;
  prometheus::Counter* rq_retry;  // all retries
  prometheus::Counter* rq_retry_budget_exhausted;
  prometheus::Counter* rq_per_try_timeout;
  prometheus::Counter* rq_max_requests_overflow;
  prometheus::Counter* rq_retry_overflow;  // max_retries, when no budget applies
  prometheus::Counter* cx_overflow;        // max_connections reached
  prometheus::Counter* outlier_ejections;
  prometheus::Gauge* outlier_ejections_active;
  // Retries by what was retried: connect-failure, reset, per-try-timeout, status.
  prometheus::Counter* rq_retry_by_reason[4];
};

// Why TLS handshakes fail (the `reason` label), in this order.
inline constexpr const char* kTlsFailureReasons[] = {"no_client_certificate",
                                                     "certificate_expired",
                                                     "unknown_ca",
                                                     "identity_mismatch",
                                                     "not_tls",
                                                     "peer_alert",
                                                     "handshake_error"};
inline constexpr int kTlsFailureReasonCount = 7;
int tlsFailureIndex(const std::string& reason);

// Counts the handshakes of every TLS socket the proxy makes.
struct TlsStats : tls::HandshakeObserver {
  prometheus::Counter* handshakes[2];  // [0]: as server (inbound), [1]: as client
  prometheus::Counter* failures[2][kTlsFailureReasonCount];
  prometheus::Gauge* certificate_expiry;  // our certificate's notAfter, Unix seconds

  void onHandshakeComplete(bool as_server) const override;
  void onHandshakeFailed(bool as_server, const std::string& reason) const override;
};

class Store {
 public:
  Store();
  ~Store();
  // Idempotent per name: the same handles come back for the same name.
  ListenerStats listener(const std::string& name);
  ClusterStats cluster(const std::string& name);
  const TlsStats& tls() const { return *tls_; }
  // weft_access_log_dropped_total{path}: lines a full buffer dropped.
  prometheus::Counter* accessLogDropped(const std::string& path);
  // Prometheus text exposition of everything.
  std::string render() const;

  prometheus::Registry& registry();

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
  std::unique_ptr<TlsStats> tls_;
};

// Thin wrappers so callers need not include prometheus headers.
void inc(prometheus::Counter* counter, double by = 1);
void gaugeAdd(prometheus::Gauge* gauge, double by);
void gaugeSet(prometheus::Gauge* gauge, double value);
void observe(prometheus::Histogram* histogram, double value);
void countResponseCode(const ListenerStats& stats, int code);
// One stream that ended with response flag `flag` (Envoy's short name).
void countResponseFlag(const ListenerStats& stats, const char* flag);
// One connection whose first bytes were inspected, and what they said.
void countProtocolDetection(const ListenerStats& stats, const char* result);

}  // namespace weft::stats
