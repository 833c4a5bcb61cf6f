#include "proxy/app_health/app_prober.h"

#include "common/base/logging.h"
#include "common/grpc/grpc_stream.h"
#include "common/http/one_shot_request.h"
#include "common/network/tcp_connection.h"
#include "grpc/health/v1/health.pb.h"

namespace weft::app_health {

namespace {

constexpr char kHealthCheckPath[] = "/grpc.health.v1.Health/Check";
// What the kubelet sends (its version aside), unless the probe sets them.
constexpr char kUserAgent[] = "kube-probe/weft";

http::ServerResponse failure(const std::string& why) { return {503, "text/plain", why + "\n"}; }

}  // namespace

// One probe in flight: ends in exactly one call of `done`, by its outcome or
// by its timeout, whichever comes first.
class AppProber::Call : public network::ConnectionCallbacks {
 public:
  using Done = std::function<void(Call* self, http::ServerResponse)>;

  Call(event::Dispatcher& dispatcher, const mesh::AppProbe& probe, network::Address target,
       std::string host_header, tls::TlsContextPtr https, Done done)
      : dispatcher_(dispatcher),
        probe_(probe),
        target_(target),
        host_header_(std::move(host_header)),
        https_(std::move(https)),
        done_(std::move(done)),
        deadline_(dispatcher, [this] {
          complete(failure("timed out after " + std::to_string(probe_.timeout_seconds) + " s"));
        }) {}

  ~Call() override {
    if (connection_) {
      connection_->setCallbacks(nullptr);
      connection_->close(network::CloseType::kNoFlush);
    }
  }

  void start() {
    deadline_.enableMs(uint64_t{probe_.timeout_seconds} * 1000);
    switch (probe_.kind) {
      case mesh::AppProbe::Kind::kHttpGet:
        return startHttp();
      case mesh::AppProbe::Kind::kTcpSocket:
        connection_ = network::TcpConnection::connectTo(dispatcher_, target_);
        connection_->setCallbacks(this);
        return;
      case mesh::AppProbe::Kind::kGrpc:
        return startGrpc();
    }
  }

  // network::ConnectionCallbacks (the tcpSocket probe: connecting is all)
  void onData(std::string_view, bool) override {}
  void onEvent(network::ConnectionEvent event) override {
    if (event == network::ConnectionEvent::kConnected) {
      complete({200, "text/plain", "connected\n"});
    } else {
      complete(failure("connect to " + target_.toString() + " failed"));
    }
  }

 private:
  void startHttp() {
    http::HeaderMap headers;
    headers.add(":method", "GET");
    headers.add(":path", probe_.path);
    bool has_host = false, has_agent = false, has_accept = false;
    for (const auto& [name, value] : probe_.headers) {
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "host") {
        headers.add(":authority", value);
        has_host = true;
        continue;
      }
      has_agent = has_agent || lower == "user-agent";
      has_accept = has_accept || lower == "accept";
      headers.add(lower, value);
    }
    if (!has_host) headers.add(":authority", host_header_);
    if (!has_agent) headers.add("user-agent", kUserAgent);
    if (!has_accept) headers.add("accept", "*/*");
    http_ = std::make_unique<http::OneShotRequest>(
        dispatcher_, target_, https_, std::move(headers), std::string(),
        [this](int status, const std::string& reason) {
          if (status == 0) return complete(failure(reason));
          complete({status, "text/plain", "app answered " + std::to_string(status) + "\n"});
        });
    http_->start();
  }

  void startGrpc() {
    grpc_ = std::make_unique<grpc::GrpcStream>(
        dispatcher_, target_, host_header_, kHealthCheckPath,
        [this](std::string_view message) {
          ::grpc::health::v1::HealthCheckResponse response;
          if (response.ParseFromArray(message.data(), static_cast<int>(message.size()))) {
            serving_ = response.status();
          }
        },
        [this](int status, const std::string& message) {
          using Status = ::grpc::health::v1::HealthCheckResponse;
          if (status != 0) {
            return complete(failure("grpc-status " + std::to_string(status) + ": " + message));
          }
          if (serving_ != Status::SERVING) {
            return complete(
                failure("health status " +
                        Status::ServingStatus_Name(static_cast<Status::ServingStatus>(serving_))));
          }
          complete({200, "text/plain", "SERVING\n"});
        });
    ::grpc::health::v1::HealthCheckRequest request;
    request.set_service(probe_.grpc_service);
    grpc_->start();
    grpc_->send(request.SerializeAsString());
    grpc_->closeSend();
  }

  void complete(http::ServerResponse response) {
    if (finished_) return;
    finished_ = true;
    deadline_.disable();
    done_(this, std::move(response));  // frees this later (AppProber::finish)
  }

  event::Dispatcher& dispatcher_;
  const mesh::AppProbe& probe_;
  network::Address target_;
  std::string host_header_;
  tls::TlsContextPtr https_;
  Done done_;
  event::Timer deadline_;
  std::unique_ptr<network::Connection> connection_;
  std::unique_ptr<http::OneShotRequest> http_;
  std::unique_ptr<grpc::GrpcStream> grpc_;
  int serving_ = 0;
  bool finished_ = false;
};

AppProber::AppProber(event::Dispatcher& dispatcher, mesh::AppProbes probes, std::string pod_ip)
    : dispatcher_(dispatcher),
      probes_(std::move(probes)),
      pod_ip_(pod_ip.empty() ? "127.0.0.1" : std::move(pod_ip)) {
  bool any_https = false;
  for (const auto& [path, probe] : probes_) any_https = any_https || probe.https;
  if (!any_https) return;
  tls::TlsContextConfig config;
  config.alpn = {"http/1.1"};
  std::string error;
  https_ = tls::TlsContext::create(std::move(config), &error);
  if (!https_) LOG_WARN("app probes: no TLS client context for HTTPS probes: %s", error.c_str());
}

AppProber::~AppProber() = default;

bool AppProber::handles(const std::string& path) {
  return path.rfind(mesh::kAppHealthPathPrefix, 0) == 0;
}

void AppProber::probe(const std::string& path, http::ServerResponder respond) {
  auto it = probes_.find(path);
  if (it == probes_.end()) {
    respond({404, "text/plain", "no app probe at " + path + "\n"});
    return;
  }
  const mesh::AppProbe& probe = it->second;
  const std::string& host = probe.host.empty() ? pod_ip_ : probe.host;
  auto target = network::Address::fromIpPort(host, probe.port);
  if (!target) {
    respond(failure("the probe's host '" + host + "' is not an IP address"));
    return;
  }
  if (probe.https && !https_) {
    respond(failure("HTTPS probes are unavailable (no TLS client context)"));
    return;
  }
  auto call = std::make_unique<Call>(
      dispatcher_, probe, *target, host + ":" + std::to_string(probe.port),
      probe.https ? https_ : nullptr,
      [this, path, respond = std::move(respond)](Call* self, http::ServerResponse response) {
        respond(response);
        finish(self, path, std::move(response));
      });
  Call* raw = call.get();
  calls_[raw] = std::move(call);
  raw->start();
}

void AppProber::finish(Call* call, const std::string& path, http::ServerResponse response) {
  bool success = response.status >= 200 && response.status < 400;
  auto [it, first] = last_success_.try_emplace(path, success);
  if (first ? !success : it->second != success) {
    std::string why = response.body;
    if (!why.empty() && why.back() == '\n') why.pop_back();
    LOG_INFO("app probe %s: %s (%s)", path.c_str(), success ? "passing" : "failing", why.c_str());
  }
  it->second = success;
  auto found = calls_.find(call);
  if (found == calls_.end()) return;
  // The call may be deep in its own stack (a codec callback): freed later.
  dispatcher_.deferDelete(std::move(found->second));
  calls_.erase(found);
}

}  // namespace weft::app_health
