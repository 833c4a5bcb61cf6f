#include "proxy/admin/admin_server.h"

#include "proxy/http/http1_server.h"
#include "proxy/tls/tls_socket.h"

namespace weft::admin {

class AdminServer::AdminConnection : public network::ConnectionCallbacks,
                                     public http::ServerConnectionCallbacks,
                                     public http::StreamDecoder {
 public:
  AdminConnection(AdminServer& server, std::unique_ptr<network::Connection> connection)
      : server_(server), connection_(std::move(connection)) {
    connection_->setCallbacks(this);
    if (server_.tls_) {
      if (tls::TlsContextPtr context = server_.tls_()) {
        connection_->setTransportSocket(std::make_unique<tls::TlsSocket>(context, nullptr));
      }
    }
    codec_ =
        std::make_unique<http::Http1ServerConnection>(*connection_, *this, http::Http1Settings{});
    connection_->startReading();
  }
  ~AdminConnection() override { connection_->setCallbacks(nullptr); }

  void onData(std::string_view data, bool) override { codec_->dispatch(data); }
  void onEvent(network::ConnectionEvent event) override {
    if (event == network::ConnectionEvent::kRemoteClose ||
        event == network::ConnectionEvent::kLocalClose) {
      server_.remove(this);
    }
  }

  http::StreamDecoder& newStream(http::StreamEncoder& encoder) override {
    encoder_ = &encoder;
    return *this;
  }

  void decodeHeaders(http::HeaderMap&& headers, bool end_stream) override {
    request_ = AdminRequest{};
    too_large_ = false;
    request_.method = std::string(headers.method());
    request_.path = std::string(headers.path());
    if (auto type = headers.get("content-type")) request_.content_type = std::string(*type);
    if (end_stream) respond();
  }
  void decodeData(std::string_view data, bool end_stream) override {
    if (request_.body.size() + data.size() > kMaxBodyBytes) {
      too_large_ = true;
    } else {
      request_.body.append(data);
    }
    if (end_stream) respond();
  }
  void decodeTrailers(http::HeaderMap&&) override { respond(); }
  void onResetStream(http::StreamResetReason) override { encoder_ = nullptr; }

 private:
  void respond() {
    if (encoder_ == nullptr) return;
    AdminResponse response = too_large_ ? AdminResponse{413, "text/plain", "body too large\n"}
                                        : server_.handler_(request_);
    http::HeaderMap headers;
    headers.add(":status", std::to_string(response.status));
    headers.add("content-type", response.content_type);
    headers.add("content-length", std::to_string(response.body.size()));
    http::StreamEncoder* encoder = encoder_;
    encoder_ = nullptr;
    encoder->encodeHeaders(headers, response.body.empty());
    if (!response.body.empty()) encoder->encodeData(response.body, true);
  }

  AdminServer& server_;
  std::unique_ptr<network::Connection> connection_;
  std::unique_ptr<http::ServerConnection> codec_;
  http::StreamEncoder* encoder_ = nullptr;
  AdminRequest request_;
  bool too_large_ = false;
};

AdminServer::AdminServer(event::Dispatcher& dispatcher, AdminHandler handler)
    : dispatcher_(dispatcher),
      handler_([handler = std::move(handler)](const AdminRequest& request) {
        return handler(request.method, request.path);
      }) {}

AdminServer::AdminServer(event::Dispatcher& dispatcher, AdminRequestHandler handler)
    : dispatcher_(dispatcher), handler_(std::move(handler)) {}

AdminServer::~AdminServer() = default;

bool AdminServer::start(const network::Address& address, std::string* error) {
  int fd = network::bindListeningSocket(address, false, error);
  if (fd < 0) return false;
  listener_ = std::make_unique<network::Listener>(
      dispatcher_, fd, [this](std::unique_ptr<network::Connection> connection) {
        auto admin = std::make_unique<AdminConnection>(*this, std::move(connection));
        AdminConnection* raw = admin.get();
        connections_[raw] = std::move(admin);
      });
  return listener_->ok();
}

void AdminServer::stop() {
  listener_.reset();
  for (auto& [raw, connection] : connections_) dispatcher_.deferDelete(std::move(connection));
  connections_.clear();
}

void AdminServer::remove(AdminConnection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  dispatcher_.deferDelete(std::move(it->second));
  connections_.erase(it);
}

}  // namespace weft::admin
