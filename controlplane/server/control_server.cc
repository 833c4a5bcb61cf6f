#include "controlplane/server/control_server.h"

#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/base/logging.h"
#include "controlplane/ca/ca_store.h"
#include "controlplane/kube/ca_secret.h"
#include "security/spiffe_id.h"

namespace weft::control {

namespace {
// This replica, for the status Lease: the pod's name where there is one
// (POD_NAME from the downward API, else the hostname, which is the pod's
// name in Kubernetes), with the process id, so two processes on one host
// (the tests) differ too.
std::string replicaIdentity() {
  const char* pod = std::getenv("POD_NAME");
  char host[256] = {0};
  if (pod == nullptr && gethostname(host, sizeof(host) - 1) == 0) pod = host;
  return std::string(pod != nullptr ? pod : "weft-control") + "_" + std::to_string(getpid());
}
}  // namespace

ControlServer::ControlServer(ControlOptions options) : options_(std::move(options)) {}

ControlServer::~ControlServer() {
  // With a deadline: ADS streams never end on their own, and a start that
  // fails after xDS is up (a bad CA Secret, say) must still exit.
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(1);
  if (grpc_) grpc_->Shutdown(deadline);
  if (ca_grpc_) ca_grpc_->Shutdown(deadline);
}

bool ControlServer::startCa(const http::HttpEndpoint& api) {
  ca::CaStoreOptions store;
  store.cert_path = options_.ca_cert;
  store.key_path = options_.ca_key;
  store.chain_path = options_.ca_chain;
  store.data_dir = options_.data_dir;
  store.extra_roots_path = options_.ca_extra_roots;
  std::string error;
  if (!options_.ca_secret.empty() && options_.ca_cert.empty()) {
    if (!options_.config_dir.empty()) {
      std::fprintf(stderr,
                   "weft-control: CA: --ca-secret needs the Kubernetes API, not "
                   "--config-dir (use --data-dir)\n");
      return false;
    }
    kube::CaSecret secret;
    if (!kube::loadOrCreateCaSecret(api, options_.ca_secret, store.trust_domain, &secret, &error)) {
      std::fprintf(stderr, "weft-control: CA: %s\n", error.c_str());
      return false;
    }
    store.cert_pem = secret.cert_pem;
    store.key_pem = secret.key_pem;
    store.origin = secret.origin;
  }
  ca::LoadedCa loaded = ca::loadOrCreateCa(store, &error);
  if (!loaded.authority) {
    std::fprintf(stderr, "weft-control: CA: %s\n", error.c_str());
    return false;
  }
  authority_ = std::move(loaded.authority);
  trust_bundle_pem_ = loaded.trust_bundle_pem;
  if (!options_.config_dir.empty()) {
    if (options_.workload_tokens.empty()) {
      std::fprintf(stderr,
                   "weft-control: CA: --workload-tokens FILE is needed with --config-dir "
                   "(or --ca-address '' to run without the CA)\n");
      return false;
    }
    authenticator_ = std::make_unique<ca::TokenFileAuthenticator>(options_.workload_tokens);
  } else {
    authenticator_ = std::make_unique<ca::TokenReviewAuthenticator>(api, "weft");
  }
  ca_service_ = std::make_unique<ca::CertificateService>(authority_, trust_bundle_pem_,
                                                         *authenticator_, metrics_);
  // The CA serves with a certificate of its own: weft-control's SPIFFE
  // identity (proxies pin it), its Service's DNS names, and the listen IP.
  auto key = security::generateP256Key();
  security::IssueOptions serving;
  serving.uris = {
      security::SpiffeId{"cluster.local", options_.own_namespace, options_.own_service_account}
          .uri()};
  std::string svc = options_.own_service_account + "." + options_.own_namespace;
  serving.dns_names = {options_.own_service_account, svc, svc + ".svc", svc + ".svc.cluster.local"};
  std::string host = options_.ca_address.substr(0, options_.ca_address.rfind(':'));
  if (network::Address::fromIpPort(host, 1)) serving.ips = {host};
  serving.lifetime_s = 365LL * 86400;
  auto cert = authority_->issue(key.get(), serving, &error);
  if (!cert) {
    std::fprintf(stderr, "weft-control: CA: serving certificate: %s\n", error.c_str());
    return false;
  }
  grpc::SslServerCredentialsOptions tls;
  tls.pem_key_cert_pairs.push_back(
      {security::privateKeyToPem(key.get()),
       security::certificateToPem(cert.get()) + authority_->chainPem()});
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(options_.ca_address, grpc::SslServerCredentials(tls), &bound_port);
  builder.RegisterService(ca_service_.get());
  ca_grpc_ = builder.BuildAndStart();
  if (!ca_grpc_ || bound_port == 0) {
    std::fprintf(stderr, "weft-control: cannot listen for the CA on %s\n",
                 options_.ca_address.c_str());
    return false;
  }
  LOG_INFO("weft-control: CA on %s (TLS; key from %s)", options_.ca_address.c_str(),
           loaded.origin.c_str());
  return true;
}

int ControlServer::run() {
  http::HttpEndpoint api;
  if (options_.config_dir.empty()) {
    std::string error;
    bool ok = options_.kubeconfig.empty() ? kube::inClusterConfig(&api, &error)
                                          : kube::loadKubeconfig(options_.kubeconfig, &api, &error);
    if (!ok) {
      std::fprintf(stderr, "weft-control: %s (give --config-dir DIR or --kubeconfig PATH)\n",
                   error.c_str());
      return 2;
    }
  }
  ads_ = std::make_unique<AdsService>(cache_, registry_, metrics_);
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(options_.xds_address, grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(ads_.get());
  builder.SetMaxReceiveMessageSize(16 << 20);
  grpc_ = builder.BuildAndStart();
  if (!grpc_ || bound_port == 0) {
    std::fprintf(stderr, "weft-control: cannot listen for xDS on %s\n",
                 options_.xds_address.c_str());
    return 1;
  }

  if (!options_.ca_address.empty() && !startCa(api)) return 1;

  auto apply = [this](std::shared_ptr<const ConfigSet> config) {
    metrics_.configErrors(config->errors.size());
    metrics_.configApplied(0);
    if (ca_service_) {
      ca::IssuancePolicy policy;
      policy.trust_domain = config->mesh.trust_domain;
      policy.default_lifetime_s = static_cast<int64_t>(config->mesh.certificate_lifetime_s);
      ca_service_->setPolicy(policy);
      // The trust bundle reaches proxies as the SDS secret ROOTCA.
      auto with_bundle = std::make_shared<ConfigSet>(*config);
      with_bundle->trust_bundle_pem = trust_bundle_pem_;
      config = std::move(with_bundle);
    }
    cache_.update(std::move(config));
  };
  std::unique_ptr<kube::StatusWriter> writer;  // Kubernetes mode: status onto the objects
  if (!options_.config_dir.empty()) {
    watcher_ =
        std::make_unique<DirWatcher>(main_, options_.config_dir, options_.debounce_ms, apply);
    if (!watcher_->start()) return 1;
  } else {
    kube_ = std::make_unique<kube::KubeSource>(main_, api, options_.debounce_ms, apply);
    kube_->start();
    writer = std::make_unique<kube::StatusWriter>(
        api, kube::StatusLease(api, options_.own_namespace, replicaIdentity()));
    if (authority_) {
      root_publisher_ = std::make_unique<kube::RootCertificatePublisher>(api, trust_bundle_pem_);
      root_publisher_->start();
    }
  }

  status_ = std::make_unique<StatusReporter>(main_, cache_, registry_, std::move(writer));
  status_->start();

  admin_ = std::make_unique<http::HttpServer>(
      main_, [this](const std::string& method, const std::string& path) {
        return handleAdmin(method, path);
      });
  std::string error;
  auto admin_address = network::Address::fromIpPort(options_.admin_address, options_.admin_port);
  if (!admin_address || !admin_->start(*admin_address, &error)) {
    std::fprintf(stderr, "weft-control: admin: %s\n", error.c_str());
    return 1;
  }

  uv_signal_init(main_.loop(), &sigterm_);
  sigterm_.data = this;
  auto stop = [](uv_signal_t* h, int) { static_cast<ControlServer*>(h->data)->main_.exit(); };
  uv_signal_start(&sigterm_, stop, SIGTERM);
  uv_signal_init(main_.loop(), &sigint_);
  sigint_.data = this;
  uv_signal_start(&sigint_, stop, SIGINT);

  std::string source = !options_.config_dir.empty()
                           ? options_.config_dir
                           : "the Kubernetes API at " + api.host + ":" + std::to_string(api.port);
  LOG_INFO("weft-control: xDS on %s, admin on %s, config from %s", options_.xds_address.c_str(),
           admin_address->toString().c_str(), source.c_str());
  main_.run();
  grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  admin_.reset();
  status_.reset();
  watcher_.reset();
  kube_.reset();
  root_publisher_.reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  return 0;
}

http::ServerResponse ControlServer::handleAdmin(const std::string&, const std::string& path) {
  http::ServerResponse response;
  std::string route = path.substr(0, path.find('?'));
  if (route == "/healthz") {
    response.body = "ALIVE\n";  // liveness: the process answers, loaded or not
  } else if (route == "/ready") {
    // Ready once the first configuration is loaded: before that xDS requests wait.
    if (cache_.ready()) {
      response.body = "LIVE\n";
    } else {
      response.status = 503;
      response.body = "waiting for the first configuration\n";
    }
  } else if (route == "/metrics" || route == "/stats/prometheus") {
    response.content_type = "text/plain; version=0.0.4";
    response.body = metrics_.render();
  } else if (route == "/debug/syncz") {
    response.content_type = "application/json";
    response.body = syncz();
  } else if (route == "/debug/statusz") {
    // ?object=KIND/NAMESPACE/NAME for one object's.
    std::string object;
    size_t q = path.find("?object=");
    if (q != std::string::npos) object = path.substr(q + 8);
    response.content_type = "application/json";
    if (!status_->statusz(object, &response.body)) {
      response.status = 404;
      response.content_type = "text/plain";
      response.body = "no status for " + object +
                      " (weft writes status for HTTPRoute, "
                      "GRPCRoute, DestinationPolicy, AuthorizationPolicy and MeshConfig)\n";
    }
  } else if (route == "/debug/config_errors") {
    response.body = configErrors();
  } else {
    response.status = 404;
    response.body =
        "endpoints: /healthz /ready /metrics /debug/syncz /debug/statusz /debug/config_errors\n";
  }
  return response;
}

std::string ControlServer::syncz() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& status : registry_.snapshot()) {
    nlohmann::json types = nlohmann::json::object();
    for (int t = 0; t < kXdsTypeCount; ++t) {
      if (status.sent[t].empty()) continue;
      std::string state = !status.nacked_error[t].empty()     ? "NACKED"
                          : status.sent[t] == status.acked[t] ? "SYNCED"
                                                              : "STALE";
      types[mesh::shortName(static_cast<ResourceType>(t))] = {{"sent", status.sent[t]},
                                                              {"acked", status.acked[t]},
                                                              {"status", state},
                                                              {"error", status.nacked_error[t]}};
    }
    out.push_back({{"node_id", status.node_id},
                   {"protocol", status.protocol},
                   {"admin_address", status.admin_address},
                   {"types", types}});
  }
  return out.dump(2) + "\n";
}

std::string ControlServer::configErrors() const {
  std::string out;
  auto config = cache_.config();
  if (config == nullptr) return "waiting for the first configuration\n";
  for (const auto& e : config->errors) out += e.toString() + "\n";
  return out;
}

}  // namespace weft::control
