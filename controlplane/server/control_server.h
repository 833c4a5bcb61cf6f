#pragma once

// weft-control: a config source, the xDS cache, the ADS gRPC server and an
// admin endpoint (metrics, /debug/syncz, /debug/statusz).

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "common/event/dispatcher.h"
#include "common/http/http_server.h"
#include "controlplane/ca/authenticator.h"
#include "controlplane/ca/certificate_service.h"
#include "controlplane/kube/kube_source.h"
#include "controlplane/kube/root_certificate_publisher.h"
#include "controlplane/metrics/metrics.h"
#include "controlplane/server/dir_watcher.h"
#include "controlplane/server/status_reporter.h"
#include "controlplane/xds/ads_server.h"
#include "controlplane/xds/cache.h"
#include "mesh/names.h"

namespace weft::control {

struct ControlOptions {
  std::string config_dir;
  std::string kubeconfig;  // or in-cluster credentials when neither is given
  std::string xds_address = "127.0.0.1:15010";
  std::string admin_address = "127.0.0.1";
  uint16_t admin_port = 15014;
  uint64_t debounce_ms = 100;
  // The mesh CA (CertificateService over TLS) listens here; "": no CA.
  std::string ca_address;
  std::string data_dir;
  std::string ca_secret;  // NAMESPACE/NAME: the root kept in a Kubernetes Secret
  std::string ca_cert;
  std::string ca_key;
  std::string ca_chain;
  std::string ca_extra_roots;
  std::string workload_tokens;  // config-dir mode: "TOKEN NAMESPACE SERVICE_ACCOUNT" lines
  // weft-control's own identity (its CA serving certificate's URI SAN).
  std::string own_namespace = mesh::kControlPlaneNamespace;
  std::string own_service_account = mesh::kControlPlaneServiceAccount;
};

class ControlServer {
 public:
  explicit ControlServer(ControlOptions options);
  ~ControlServer();
  int run();

 private:
  http::ServerResponse handleAdmin(const std::string& method, const std::string& path);
  std::string syncz() const;
  std::string configErrors() const;

  ControlOptions options_;
  event::Dispatcher main_;
  XdsCache cache_;
  StreamRegistry registry_;
  ControlMetrics metrics_;
  std::unique_ptr<AdsService> ads_;
  std::unique_ptr<grpc::Server> grpc_;
  bool startCa(const http::HttpEndpoint& api);
  std::shared_ptr<const security::CertificateAuthority> authority_;
  std::string trust_bundle_pem_;
  std::unique_ptr<ca::Authenticator> authenticator_;
  std::unique_ptr<ca::CertificateService> ca_service_;
  std::unique_ptr<grpc::Server> ca_grpc_;
  std::unique_ptr<DirWatcher> watcher_;
  std::unique_ptr<kube::KubeSource> kube_;
  std::unique_ptr<kube::RootCertificatePublisher> root_publisher_;
  std::unique_ptr<StatusReporter> status_;
  std::unique_ptr<http::HttpServer> admin_;
  uv_signal_t sigterm_;
  uv_signal_t sigint_;
};

}  // namespace weft::control
