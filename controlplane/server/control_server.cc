#include "controlplane/server/control_server.h"

#include <nlohmann/json.hpp>

#include "proxy/common/logging.h"

namespace weft::control {

ControlServer::ControlServer(ControlOptions options) : options_(std::move(options)) {}

ControlServer::~ControlServer() {
  if (grpc_) grpc_->Shutdown();
}

int ControlServer::run() {
  kube::ApiServer api;
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

  auto apply = [this](std::shared_ptr<const ConfigSet> config) {
    metrics_.configErrors(config->errors.size());
    metrics_.configApplied(0);
    cache_.update(std::move(config));
  };
  if (!options_.config_dir.empty()) {
    watcher_ =
        std::make_unique<DirWatcher>(main_, options_.config_dir, options_.debounce_ms, apply);
    if (!watcher_->start()) return 1;
  } else {
    kube_ = std::make_unique<kube::KubeSource>(main_, api, options_.debounce_ms, apply);
    kube_->start();
  }

  admin_ = std::make_unique<admin::AdminServer>(
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
  watcher_.reset();
  kube_.reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  return 0;
}

admin::AdminResponse ControlServer::handleAdmin(const std::string&, const std::string& path) {
  admin::AdminResponse response;
  std::string route = path.substr(0, path.find('?'));
  if (route == "/ready") {
    response.body = "LIVE\n";
  } else if (route == "/metrics" || route == "/stats/prometheus") {
    response.content_type = "text/plain; version=0.0.4";
    response.body = metrics_.render();
  } else if (route == "/debug/syncz") {
    response.content_type = "application/json";
    response.body = syncz();
  } else if (route == "/debug/config_errors") {
    response.body = configErrors();
  } else {
    response.status = 404;
    response.body = "endpoints: /ready /metrics /debug/syncz /debug/config_errors\n";
  }
  return response;
}

std::string ControlServer::syncz() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& status : registry_.snapshot()) {
    nlohmann::json types = nlohmann::json::object();
    for (int t = 0; t < kResourceTypeCount; ++t) {
      if (status.sent[t].empty()) continue;
      std::string state = !status.nacked_error[t].empty()     ? "NACKED"
                          : status.sent[t] == status.acked[t] ? "SYNCED"
                                                              : "STALE";
      types[typeShortName(static_cast<ResourceType>(t))] = {{"sent", status.sent[t]},
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
  for (const auto& e : cache_.config()->errors) out += e.toString() + "\n";
  return out;
}

}  // namespace weft::control
