#pragma once

// The proxy process: loads the bootstrap, starts the workers and the admin
// endpoint, and handles SIGTERM / POST /drain by draining then exiting.

#include <uv.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/event/dispatcher.h"
#include "common/http/http_server.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "mesh/app_probes.h"
#include "mesh/names.h"
#include "proxy/access_log/access_log_sink.h"
#include "proxy/admin/admin_endpoint.h"
#include "proxy/app_health/app_prober.h"
#include "proxy/config/snapshot.h"
#include "proxy/dns/dns_cache.h"
#include "proxy/sds/workload_certificate.h"
#include "proxy/server/app_watcher.h"
#include "proxy/server/listener_sockets.h"
#include "proxy/server/worker.h"
#include "proxy/stats/istio_metrics.h"
#include "proxy/stats/stats.h"
#include "proxy/tracing/otlp_exporter.h"
#include "proxy/translate/runtime_factories.h"
#include "proxy/upstream/cluster_runtime.h"
#include "proxy/xds/xds_client.h"

namespace weft::server {

struct Options {
  std::string bootstrap_path;
  int concurrency = 0;               // 0: one worker per core
  uint64_t drain_timeout_ms = 5000;  // in-flight requests get this long on drain
  // The mesh CA (with xDS): where to get the workload certificate.
  std::string ca_address;     // HOST:PORT; "" = no workload certificate
  std::string ca_root_cert;   // file: the root the CA's serving certificate chains to
  std::string ca_token_file;  // file: the bearer token proving this workload
  std::string ca_identity = mesh::kDefaultControlPlaneIdentity;
  std::string trust_domain = "cluster.local";
  int64_t certificate_lifetime_s = 0;  // 0: the mesh default
  // Given (by `weft-proxy sidecar`): used instead of reading bootstrap_path.
  std::optional<envoy::config::bootstrap::v3::Bootstrap> bootstrap;
  // > 0: a second, read-only endpoint on all addresses for the kubelet's
  // probes and Prometheus (/ready, /stats/prometheus); the admin endpoint
  // itself stays on loopback.
  int status_port = 0;
  // The kubelet probes the injector moved to the status port (/app-health/),
  // performed against the app at `pod_ip` ("" = 127.0.0.1).
  mesh::AppProbes app_probes;
  std::string pod_ip;
  // Non-empty: a /proc to watch; exit once the application's processes are gone.
  std::string exit_with_app_proc;
};

// Implements the admin endpoint's view of the process privately: only the
// admin handlers see it.
class Server : private admin::AdminState {
 public:
  explicit Server(Options options);
  ~Server();

  // Returns the process exit code.
  int run();

 private:
  // admin::AdminState
  bool ready() const override { return ready_; }
  bool draining() const override { return draining_; }
  std::string metrics() const override;
  std::string configDump() const override;
  std::string clusters() const override;
  void requestDrain() override;

  bool startStatus(std::string* error);
  void watchApplication();
  // Binds what the snapshot adds, keeps what it shares with the current one,
  // closes what it drops, and hands it to every worker.
  void applySnapshot(config::SnapshotPtr snapshot);
  // A DNS cluster's name resolved to something new: the configuration is
  // built again with it.
  void onDnsAnswer();
  bool startXds(std::string* error);
  void startDrain(bool exit_when_done);
  void finish();

  Options options_;
  event::Dispatcher main_;
  stats::Store stats_;
  // A sidecar meets a few dozen peer workloads, codes and flags; the cap is
  // far above that and stops a misbehaving peer from growing the exposition.
  static constexpr size_t kMaxIstioLabelSets = 5000;
  stats::IstioMetrics istio_{stats_.registry(), kMaxIstioLabelSets};
  // Access-log files, kept across pushes (a snapshot's logs share these sinks).
  access_log::AccessLogSinks access_logs_{
      [this](const std::string& path) { return stats_.accessLogDropped(path); }};
  // Span exporters by collector, kept across pushes like the access logs.
  tracing::OtlpExporters tracers_{main_, stats_.registry(), {}};
  translate::RuntimeFactories runtime_factories_{&access_logs_, &tracers_};
  // The DNS clusters' answers, kept across pushes (made in run()).
  std::unique_ptr<dns::DnsCache> dns_;
  // Breaker counters and ejections, carried from snapshot to snapshot.
  upstream::ClusterRuntimeRegistry runtime_{stats_};
  envoy::config::bootstrap::v3::Bootstrap bootstrap_;
  config::SnapshotPtr snapshot_;
  int concurrency_ = 1;
  std::unique_ptr<ListenerSockets> sockets_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<xds::XdsClient> xds_;
  bool startWorkloadCertificate(const envoy::config::core::v3::Node& node, std::string* error);
  std::unique_ptr<sds::WorkloadCertificate> certificate_;
  bool ready_ = false;
  std::unique_ptr<http::HttpServer> admin_;
  std::unique_ptr<app_health::AppProber> app_prober_;
  std::unique_ptr<http::HttpServer> status_;
  std::unique_ptr<AppWatcher> app_watcher_;
  std::unique_ptr<event::Timer> app_timer_;
  uv_signal_t sigterm_;
  uv_signal_t sigint_;
  std::unique_ptr<event::Timer> drain_timer_;
  std::unique_ptr<event::Timer> exit_timer_;
  bool draining_ = false;
  int workers_idle_ = 0;
  int exit_code_ = 0;
};

}  // namespace weft::server
