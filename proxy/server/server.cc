#include "proxy/server/server.h"

#include <unistd.h>

#include <thread>

#include "proxy/common/logging.h"
#include "proxy/config/bootstrap_loader.h"
#include "proxy/config/translate.h"

namespace weft::server {

Server::Server(Options options) : options_(std::move(options)) {}

Server::~Server() = default;

int Server::run() {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  std::string error;
  if (!config::loadBootstrapFile(options_.bootstrap_path, &bootstrap, &error)) {
    std::fprintf(stderr, "weft-proxy: %s\n", error.c_str());
    return 1;
  }
  config::ErrorList errors;
  snapshot_ = config::translateBootstrap(bootstrap, errors);
  if (!snapshot_) {
    std::fprintf(stderr, "weft-proxy: %s: invalid bootstrap:\n", options_.bootstrap_path.c_str());
    for (const auto& e : errors.all()) std::fprintf(stderr, "  %s\n", e.c_str());
    return 1;
  }

  int concurrency = options_.concurrency > 0 ? options_.concurrency
                                             : std::max(1u, std::thread::hardware_concurrency());

  // Bind every listener socket on the main thread first, so a port conflict
  // fails the start with a clear message instead of a half-running proxy.
  std::vector<std::vector<int>> fds(concurrency);
  for (const auto& listener : snapshot_->listeners) {
    for (int w = 0; w < concurrency; ++w) {
      int fd = network::bindListeningSocket(listener.address, true, &error);
      if (fd < 0) {
        std::fprintf(stderr, "weft-proxy: listener '%s': %s\n", listener.name.c_str(),
                     error.c_str());
        return 1;
      }
      fds[w].push_back(fd);
    }
  }

  admin_ = std::make_unique<admin::AdminServer>(
      main_, [this](const std::string& method, const std::string& path) {
        return handleAdmin(method, path);
      });
  auto admin_address =
      network::Address::fromIpPort(snapshot_->admin_address, snapshot_->admin_port);
  if (!admin_address || !admin_->start(*admin_address, &error)) {
    std::fprintf(stderr, "weft-proxy: admin: %s\n", error.c_str());
    return 1;
  }

  for (int w = 0; w < concurrency; ++w) {
    workers_.push_back(std::make_unique<Worker>(w, stats_));
    workers_.back()->apply(snapshot_, fds[w]);
    workers_.back()->start();
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

  LOG_INFO("weft-proxy started: %zu listeners, %zu clusters, %d workers, admin on %s",
           snapshot_->listeners.size(), snapshot_->clusters.size(), concurrency,
           admin_address->toString().c_str());
  main_.run();

  for (auto& worker : workers_) worker->stop();
  workers_.clear();
  admin_.reset();
  drain_timer_.reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  LOG_INFO("weft-proxy exiting");
  return exit_code_;
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
  main_.exit();
}

admin::AdminResponse Server::handleAdmin(const std::string& method, const std::string& path) {
  admin::AdminResponse response;
  std::string route = path.substr(0, path.find('?'));
  if (route == "/ready") {
    if (draining_) {
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
    response.body = snapshot_->config_dump_json;
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
  for (const auto& [name, cluster] : snapshot_->clusters) {
    out += name +
           "::default_priority::max_connections::" + std::to_string(cluster->max_connections) +
           "\n";
    out += name + "::default_priority::max_pending_requests::" +
           std::to_string(cluster->max_pending_requests) + "\n";
    for (const auto& host : cluster->hosts) {
      std::string prefix = name + "::" + host.address.toString() + "::";
      out += prefix + "weight::" + std::to_string(host.weight) + "\n";
      out += prefix + "health_flags::healthy\n";
    }
  }
  return out;
}

}  // namespace weft::server
