#include "proxy/server/server.h"

#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/base/logging.h"
#include "mesh/names.h"
#include "mesh/node_metadata.h"
#include "proxy/translate/bootstrap_loader.h"
#include "proxy/translate/snapshot_builder.h"
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
  common::ErrorList errors;
  snapshot_ = translate::translateBootstrap(bootstrap_, errors);
  if (!snapshot_) {
    std::fprintf(stderr, "weft-proxy: %s: invalid bootstrap:\n", options_.bootstrap_path.c_str());
    for (const auto& e : errors.all()) std::fprintf(stderr, "  %s\n", e.c_str());
    return 1;
  }
  concurrency_ = options_.concurrency > 0 ? options_.concurrency
                                          : std::max(1u, std::thread::hardware_concurrency());

  // Static listeners are bound before anything starts, so a port conflict
  // fails the start with a clear message instead of a half-running proxy.
  for (const auto& listener : snapshot_->listeners) {
    if (!listener.bind_to_port) continue;
    std::vector<int> fds;
    for (int w = 0; w < concurrency_; ++w) {
      int fd = network::bindListeningSocket(listener.address, true, &error);
      if (fd < 0) {
        std::fprintf(stderr, "weft-proxy: listener '%s': %s\n", listener.name.c_str(),
                     error.c_str());
        return 1;
      }
      fds.push_back(fd);
    }
    listener_fds_[listener.address.toString()] = std::move(fds);
  }

  admin_ = std::make_unique<http::HttpServer>(
      main_, [this](const std::string& method, const std::string& path) {
        return handleAdmin(method, path);
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

  for (int w = 0; w < concurrency_; ++w) {
    workers_.push_back(std::make_unique<Worker>(w, stats_));
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

  LOG_INFO("weft-proxy started: %zu listeners, %zu clusters, %d workers, admin on %s%s",
           snapshot_->listeners.size(), snapshot_->clusters.size(), concurrency_,
           admin_address->toString().c_str(), xds_ ? ", xDS on" : "");
  main_.run();

  xds_.reset();
  for (auto& worker : workers_) worker->stop();
  workers_.clear();
  for (auto& [address, fds] : listener_fds_) {
    for (int fd : fds) ::close(fd);
  }
  admin_.reset();
  status_.reset();
  app_timer_.reset();
  drain_timer_.reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  LOG_INFO("weft-proxy exiting");
  return exit_code_;
}

bool Server::startStatus(std::string* error) {
  status_ = std::make_unique<http::HttpServer>(
      main_, [this](const std::string& method, const std::string& path) {
        return handleStatus(method, path);
      });
  auto address =
      network::Address::fromIpPort("0.0.0.0", static_cast<uint16_t>(options_.status_port));
  return address && status_->start(*address, error);
}

http::ServerResponse Server::handleStatus(const std::string& method, const std::string& path) {
  std::string route = path.substr(0, path.find('?'));
  if (route == "/ready" || route == "/stats/prometheus" || route == "/metrics") {
    if (method == "GET" || method == "HEAD") return handleAdmin("GET", path);
    http::ServerResponse refused;
    refused.status = 405;
    refused.body = "the status port is read-only\n";
    return refused;
  }
  http::ServerResponse missing;
  missing.status = 404;
  missing.body = "the status port serves /ready and /stats/prometheus\n";
  return missing;
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
        auto snapshot = translate::buildSnapshot(bootstrap_, &candidate, errors, missing);
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

void Server::applySnapshot(config::SnapshotPtr snapshot) {
  std::map<std::string, std::vector<int>> next;
  std::vector<std::vector<int>> per_worker(concurrency_);
  for (const auto& listener : snapshot->listeners) {
    if (!listener.bind_to_port) {
      for (int w = 0; w < concurrency_; ++w) per_worker[w].push_back(-1);
      continue;
    }
    std::string key = listener.address.toString();
    auto it = listener_fds_.find(key);
    if (it != listener_fds_.end()) {
      next[key] = std::move(it->second);
      listener_fds_.erase(it);
    } else if (next.count(key) == 0) {
      std::vector<int> fds;
      std::string error;
      for (int w = 0; w < concurrency_; ++w) {
        int fd = network::bindListeningSocket(listener.address, true, &error);
        if (fd < 0) {
          LOG_ERROR("listener '%s': %s", listener.name.c_str(), error.c_str());
          break;
        }
        fds.push_back(fd);
      }
      if (static_cast<int>(fds.size()) != concurrency_) {
        for (int fd : fds) ::close(fd);
        fds.assign(concurrency_, -1);
      }
      next[key] = std::move(fds);
    }
    const auto& fds = next[key];
    for (int w = 0; w < concurrency_; ++w) {
      // Each worker's Listener owns (and closes) a duplicate; the originals
      // stay here so an unchanged listener keeps its socket across updates.
      per_worker[w].push_back(fds[w] >= 0 ? dup(fds[w]) : -1);
    }
  }
  for (auto& [key, fds] : listener_fds_) {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  listener_fds_ = std::move(next);
  snapshot_ = snapshot;
  upstream::RuntimeViewsPtr runtime = runtime_.update(*snapshot);
  for (int w = 0; w < concurrency_; ++w) workers_[w]->apply(snapshot, runtime, per_worker[w]);
}

std::string Server::configDump() const {
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  std::string bootstrap_json;
  google::protobuf::util::MessageToJsonString(bootstrap_, &bootstrap_json, print);
  std::string out = "{\n\"bootstrap\": " + bootstrap_json;
  if (xds_) {
    static const char* kNames[] = {"clusters", "endpoints", "listeners", "routes", "secrets"};
    out += ",\n\"dynamic\": {";
    const auto& r = xds_->resources();
    for (int t = 0; t < xds::kXdsTypeCount; ++t) {
      const auto& status = xds_->status(static_cast<xds::XdsType>(t));
      std::string items;
      auto append = [&](const google::protobuf::Message& m) {
        std::string json;
        google::protobuf::util::MessageToJsonString(m, &json, print);
        items += (items.empty() ? "" : ",") + json;
      };
      if (t == xds::kCds)
        for (const auto& [n, m] : r.clusters) append(m);
      if (t == xds::kEds)
        for (const auto& [n, m] : r.endpoints) append(m);
      if (t == xds::kLds)
        for (const auto& [n, m] : r.listeners) append(m);
      if (t == xds::kRds)
        for (const auto& [n, m] : r.routes) append(m);
      if (t == xds::kSds) {
        // Names and kinds only: a config dump must not leak private keys.
        for (const auto& [n, m] : r.secrets) {
          nlohmann::json secret = {
              {"name", n},
              {"kind", m.has_tls_certificate() ? "tls_certificate" : "validation_context"}};
          items += (items.empty() ? "" : ",") + secret.dump();
        }
      }
      nlohmann::json rejected = {{"version", status.rejected_version},
                                 {"error", status.rejected_error},
                                 {"count", status.rejected}};
      out += std::string(t == 0 ? "" : ",") + "\n \"" + kNames[t] +
             "\": {\"version\": " + nlohmann::json(status.version).dump() +
             ", \"last_rejected\": " + rejected.dump() + ", \"resources\": [" + items + "]}";
    }
    out += "\n},\n\"xds_connected\": " + std::string(xds_->connected() ? "true" : "false");
  }
  return out + "\n}\n";
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
  if (admin_) admin_->stop();
  if (status_) status_->stop();
  main_.exit();
}

http::ServerResponse Server::handleAdmin(const std::string& method, const std::string& path) {
  http::ServerResponse response;
  std::string route = path.substr(0, path.find('?'));
  if (route == "/ready") {
    if (!ready_) {
      response.status = 503;
      response.body = "PRE_INITIALIZING\n";
    } else if (draining_) {
      response.status = 503;
      response.body = "DRAINING\n";
    } else {
      response.body = "LIVE\n";
    }
  } else if (route == "/stats/prometheus" || route == "/metrics") {
    response.content_type = "text/plain; version=0.0.4";
    response.body = stats_.render();
  } else if (route == "/config_dump") {
    response.content_type = "application/json";
    response.body = configDump();
  } else if (route == "/clusters") {
    response.body = clustersText();
  } else if (route == "/drain" || route == "/drain_listeners" || route == "/quitquitquit" ||
             route == "/healthcheck/fail") {
    if (method != "POST") {
      response.status = 405;
      response.body = "use POST\n";
    } else {
      response.body = "OK\n";
      main_.post([this] { startDrain(true); });
    }
  } else {
    response.status = 404;
    response.body =
        "admin endpoints: /ready /stats/prometheus /config_dump /clusters "
        "POST /drain POST /quitquitquit\n";
  }
  return response;
}

std::string Server::clustersText() const {
  // Envoy's /clusters text shape: cluster::host::field::value.
  std::string out;
  const upstream::RuntimeViews& runtime = *runtime_.current();
  for (const auto& [name, cluster] : snapshot_->clusters) {
    const upstream::ClusterRuntimeView& view = runtime.at(name);
    out += name +
           "::default_priority::max_connections::" + std::to_string(cluster->max_connections) +
           "\n";
    out += name + "::default_priority::max_pending_requests::" +
           std::to_string(cluster->max_pending_requests) + "\n";
    uint64_t now = config::steadyNowMs();
    for (size_t i = 0; i < cluster->hosts.size(); ++i) {
      const auto& host = cluster->hosts[i];
      const auto& outlier = *view.hosts[i];
      bool ejected = outlier.ejected_until_ms.load() > now;
      std::string prefix = name + "::" + host.address.toString() + "::";
      out += prefix + "weight::" + std::to_string(host.weight) + "\n";
      out += prefix + "health_flags::" + (ejected ? "/failed_outlier_check" : "healthy") + "\n";
      out += prefix + "outlier_ejections::" + std::to_string(outlier.ejections.load()) + "\n";
    }
  }
  return out;
}

}  // namespace weft::server
