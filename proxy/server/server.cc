#include "proxy/server/server.h"

#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/base/logging.h"
#include "common/tls/tls_library.h"
#include "mesh/names.h"
#include "mesh/node_metadata.h"
#include "proxy/admin/admin_endpoint.h"
#include "proxy/admin/clusters_text.h"
#include "proxy/admin/config_dump.h"
#include "proxy/dns/cares_resolver.h"
#include "proxy/translate/bootstrap_loader.h"
#include "proxy/translate/snapshot_builder.h"
#include "proxy/workload/workload_metadata.h"
#include "security/spiffe_id.h"

namespace weft::server {

Server::Server(Options options) : options_(std::move(options)) {}

Server::~Server() = default;

int Server::run() {
  std::string error;
  if (options_.bootstrap) {
    bootstrap_ = *options_.bootstrap;
  } else if (!translate::loadBootstrapFile(options_.bootstrap_path, &bootstrap_, &error)) {
    std::fprintf(stderr, "weft-proxy: %s\n", error.c_str());
    return 1;
  }
  workload::WorkloadMetadata local =
      workload::localMetadataFromNode(bootstrap_.node(), options_.trust_domain);
  tracing::Tags span_tags = {{"node_id", bootstrap_.node().id()}};
  for (const auto& [key, value] : {std::pair{"istio.canonical_service", local.canonical_service},
                                   {"istio.canonical_revision", local.canonical_revision},
                                   {"istio.namespace", local.namespace_name}}) {
    if (!value.empty()) span_tags.emplace_back(key, value);
  }
  tracers_.setProcessTags({}, std::move(span_tags));
  // The DNS clusters' names, resolved by c-ares on the main loop; an answer
  // that changes rebuilds the configuration (onDnsAnswer).
  auto resolver = dns::makeCaresResolver(main_, &error);
  if (resolver == nullptr) {
    std::fprintf(stderr, "weft-proxy: %s\n", error.c_str());
    return 1;
  }
  dns_ = std::make_unique<dns::DnsCache>(
      main_, std::move(resolver), [this] { onDnsAnswer(); }, &stats_.registry());
  runtime_factories_.dns = dns_.get();
  common::ErrorList errors;
  snapshot_ = translate::translateBootstrap(bootstrap_, errors, &runtime_factories_);
  if (!snapshot_) {
    std::fprintf(stderr, "weft-proxy: %s: invalid bootstrap:\n", options_.bootstrap_path.c_str());
    for (const auto& e : errors.all()) std::fprintf(stderr, "  %s\n", e.c_str());
    return 1;
  }
  concurrency_ = options_.concurrency > 0 ? options_.concurrency
                                          : std::max(1u, std::thread::hardware_concurrency());

  // Static listeners are bound before anything starts, so a port conflict
  // fails the start with a clear message instead of a half-running proxy.
  sockets_ = std::make_unique<ListenerSockets>(concurrency_);
  if (!sockets_->bindAll(*snapshot_, &error)) {
    std::fprintf(stderr, "weft-proxy: %s\n", error.c_str());
    return 1;
  }

  admin_ = std::make_unique<http::HttpServer>(
      main_, [this](const std::string& method, const std::string& path) {
        return admin::adminResponse(static_cast<admin::AdminState&>(*this), method, path);
      });
  auto admin_address =
      network::Address::fromIpPort(snapshot_->admin_address, snapshot_->admin_port);
  if (!admin_address || !admin_->start(*admin_address, &error)) {
    std::fprintf(stderr, "weft-proxy: admin: %s\n", error.c_str());
    return 1;
  }
  if (options_.status_port > 0 && !startStatus(&error)) {
    std::fprintf(stderr, "weft-proxy: status port: %s\n", error.c_str());
    return 1;
  }

  // Before any worker records: who this sidecar's workload is.
  istio_.setLocal(std::move(local));
  for (int w = 0; w < concurrency_; ++w) {
    workers_.push_back(std::make_unique<Worker>(w, stats_, istio_));
    workers_.back()->start();
  }
  applySnapshot(snapshot_);
  ready_ = !bootstrap_.has_dynamic_resources();
  if (bootstrap_.has_dynamic_resources() && !startXds(&error)) {
    std::fprintf(stderr, "weft-proxy: %s\n", error.c_str());
    return 1;
  }

  uv_signal_init(main_.loop(), &sigterm_);
  sigterm_.data = this;
  uv_signal_start(
      &sigterm_, [](uv_signal_t* h, int) { static_cast<Server*>(h->data)->startDrain(true); },
      SIGTERM);
  uv_signal_init(main_.loop(), &sigint_);
  sigint_.data = this;
  uv_signal_start(
      &sigint_, [](uv_signal_t* h, int) { static_cast<Server*>(h->data)->startDrain(true); },
      SIGINT);

  if (!options_.exit_with_app_proc.empty()) watchApplication();

  LOG_INFO("weft-proxy started (%s): %zu listeners, %zu clusters, %d workers, admin on %s%s",
           tls::tlsLibraryVersion().c_str(), snapshot_->listeners.size(),
           snapshot_->clusters.size(), concurrency_, admin_address->toString().c_str(),
           xds_ ? ", xDS on" : "");
  main_.run();

  xds_.reset();
  for (auto& worker : workers_) worker->stop();
  workers_.clear();
  sockets_.reset();
  admin_.reset();
  status_.reset();
  app_prober_.reset();
  app_timer_.reset();
  drain_timer_.reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  LOG_INFO("weft-proxy exiting");
  return exit_code_;
}

bool Server::startStatus(std::string* error) {
  app_prober_ =
      std::make_unique<app_health::AppProber>(main_, options_.app_probes, options_.pod_ip);
  status_ = std::make_unique<http::HttpServer>(
      main_, [this](const http::ServerRequest& request, const http::ServerResponder& respond) {
        if (request.method == "GET" && app_health::AppProber::handles(request.path)) {
          return app_prober_->probe(request.path, respond);
        }
        respond(admin::statusResponse(static_cast<admin::AdminState&>(*this), request.method,
                                      request.path));
      });
  auto address =
      network::Address::fromIpPort("0.0.0.0", static_cast<uint16_t>(options_.status_port));
  return address && status_->start(*address, error);
}

void Server::watchApplication() {
  app_watcher_ = std::make_unique<AppWatcher>(options_.exit_with_app_proc, getpid());
  app_timer_ = std::make_unique<event::Timer>(main_, [this] {
    switch (app_watcher_->poll()) {
      case AppWatcher::State::kAppGone:
        LOG_INFO("weft-proxy: the application's processes have exited; draining, then exiting");
        startDrain(true);
        return;
      case AppWatcher::State::kWaitingForApp:
      case AppWatcher::State::kAppRunning:
        if (!draining_) app_timer_->enableMs(1000);
        return;
    }
  });
  app_timer_->enableMs(1000);
}

bool Server::startXds(std::string* error) {
  common::ErrorList errors;
  std::string cluster_name = translate::validateDynamicResources(bootstrap_, errors);
  const config::ClusterConfig* cluster = snapshot_->cluster(cluster_name);
  if (cluster == nullptr || cluster->hosts.empty()) {
    *error = "the xDS cluster '" + cluster_name + "' has no endpoint";
    return false;
  }
  // The control plane learns where this proxy's admin endpoint is, so
  // `weftctl config-dump POD` can find it.
  envoy::config::core::v3::Node node = bootstrap_.node();
  (*node.mutable_metadata()->mutable_fields())[mesh::node_metadata::kAdminAddress].set_string_value(
      snapshot_->admin_address + ":" + std::to_string(snapshot_->admin_port));
  xds_ = std::make_unique<xds::XdsClient>(
      main_, node, cluster->hosts[0].address, cluster_name,
      [this](const translate::DynamicResources& candidate, std::vector<std::string>* missing,
             std::string* error) {
        common::ErrorList errors;
        auto snapshot =
            translate::buildSnapshot(bootstrap_, &candidate, errors, missing, &runtime_factories_);
        if (snapshot == nullptr) *error = errors.joined();
        return snapshot;
      },
      [this](config::SnapshotPtr snapshot, const translate::DynamicResources& resources) {
        auto bundle = resources.secrets.find(mesh::kTrustBundleSecret);
        if (certificate_ && bundle != resources.secrets.end()) {
          certificate_->setTrustBundle(
              bundle->second.validation_context().trusted_ca().inline_string());
        }
        applySnapshot(std::move(snapshot));
        if (!ready_) LOG_INFO("weft-proxy: initial configuration from xDS applied");
        ready_ = true;
      });
  if (!options_.ca_address.empty() && !startWorkloadCertificate(node, error)) return false;
  xds_->start();
  return true;
}

bool Server::startWorkloadCertificate(const envoy::config::core::v3::Node& node,
                                      std::string* error) {
  sds::WorkloadCertificateOptions options;
  size_t colon = options_.ca_address.rfind(':');
  auto address =
      colon == std::string::npos
          ? std::nullopt
          : network::Address::fromIpPort(
                options_.ca_address.substr(0, colon),
                static_cast<uint16_t>(std::atoi(options_.ca_address.c_str() + colon + 1)));
  if (!address) {
    *error = "--ca-address '" + options_.ca_address + "' is not IP:PORT";
    return false;
  }
  options.ca_address = *address;
  options.ca_authority = "weft-control.weft-system.svc";
  std::ifstream root(options_.ca_root_cert);
  std::ostringstream root_pem;
  root_pem << root.rdbuf();
  options.ca_root_pem = root_pem.str();
  if (options.ca_root_pem.empty()) {
    *error = "--ca-root-cert '" + options_.ca_root_cert + "' cannot be read";
    return false;
  }
  options.ca_identity = options_.ca_identity;
  options.token_path = options_.ca_token_file;
  options.lifetime_s = options_.certificate_lifetime_s;
  // The identity the node claims ("pod.namespace", SERVICE_ACCOUNT); the CA
  // signs it only if the token proves it.
  size_t dot = node.id().find('.');
  std::string ns = dot == std::string::npos ? "default" : node.id().substr(dot + 1);
  std::string sa = "default";
  auto it = node.metadata().fields().find(mesh::node_metadata::kServiceAccount);
  if (it != node.metadata().fields().end() && !it->second.string_value().empty()) {
    sa = it->second.string_value();
  }
  options.identity = security::SpiffeId{options_.trust_domain, ns, sa}.uri();
  std::string why;
  if (!security::parseWorkloadId(options.identity, &why)) {
    *error = "workload identity " + options.identity + ": " + why;
    return false;
  }
  certificate_ = sds::WorkloadCertificate::create(
      main_, std::move(options), &stats_.tls(),
      [this](const std::string& chain, const std::string& key) {
        envoy::extensions::transport_sockets::tls::v3::Secret secret;
        secret.set_name(mesh::kWorkloadSecret);
        secret.mutable_tls_certificate()->mutable_certificate_chain()->set_inline_string(chain);
        secret.mutable_tls_certificate()->mutable_private_key()->set_inline_string(key);
        xds_->setLocalSecret(secret);
      },
      error);
  if (!certificate_) return false;
  certificate_->start();
  return true;
}

void Server::onDnsAnswer() {
  if (draining_) return;
  if (xds_) {
    xds_->rebuild();
    return;
  }
  common::ErrorList errors;
  auto snapshot = translate::translateBootstrap(bootstrap_, errors, &runtime_factories_);
  if (snapshot == nullptr) {
    LOG_ERROR("dns: the bootstrap no longer builds: %s", errors.joined().c_str());
    return;
  }
  applySnapshot(std::move(snapshot));
}

void Server::applySnapshot(config::SnapshotPtr snapshot) {
  std::vector<std::vector<int>> per_worker = sockets_->update(*snapshot);
  std::vector<dns::DnsTarget> names;
  for (const auto& [name, cluster] : snapshot->clusters) {
    for (const auto& dns_name : cluster->dns_names) names.push_back(dns_name.target);
  }
  dns_->retain(names);  // what no cluster names any more stops being refreshed
  snapshot_ = snapshot;
  tracers_.setClusters(snapshot->clusters);
  upstream::RuntimeViewsPtr runtime = runtime_.update(*snapshot);
  for (int w = 0; w < concurrency_; ++w) workers_[w]->apply(snapshot, runtime, per_worker[w]);
}

void Server::startDrain(bool exit_when_done) {
  if (draining_) return;
  draining_ = true;
  LOG_INFO("draining: listeners closed, waiting up to %llu ms for in-flight requests",
           static_cast<unsigned long long>(options_.drain_timeout_ms));
  for (auto& worker : workers_) {
    worker->drain([this] {
      main_.post([this] {
        if (++workers_idle_ == static_cast<int>(workers_.size())) finish();
      });
    });
  }
  drain_timer_ = std::make_unique<event::Timer>(main_, [this] {
    LOG_WARN("drain timeout reached with requests still in flight");
    finish();
  });
  drain_timer_->enableMs(options_.drain_timeout_ms);
  (void)exit_when_done;
}

void Server::finish() {
  access_logs_.flush();  // nothing in flight is lost on drain: neither are its log lines
  if (admin_) admin_->stop();
  if (status_) status_->stop();
  // The last spans out before exit: up to a second for their exports.
  tracers_.flush();
  if (tracers_.idle()) {
    main_.exit();
    return;
  }
  exit_timer_ = std::make_unique<event::Timer>(main_, [this, polls_left = 20]() mutable {
    tracers_.flush();
    if (--polls_left == 0 || tracers_.idle()) {
      main_.exit();
    } else {
      exit_timer_->enableMs(50);
    }
  });
  exit_timer_->enableMs(50);
}

std::string Server::metrics() const { return stats_.render(); }

std::string Server::configDump() const { return admin::configDump(bootstrap_, xds_.get()); }

std::string Server::clusters() const {
  return admin::clustersText(*snapshot_, *runtime_.current());
}

void Server::requestDrain() {
  main_.post([this] { startDrain(true); });
}

}  // namespace weft::server
