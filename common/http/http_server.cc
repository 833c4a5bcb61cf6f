#include "common/http/http_server.h"

#include "common/http/http1_server.h"
#include "common/tls/tls_socket.h"

namespace weft::http {

class HttpServer::Session : public network::ConnectionCallbacks,
                            public ServerConnectionCallbacks,
                            public http::StreamDecoder {
 public:
  Session(HttpServer& server, std::unique_ptr<network::Connection> connection)
      : server_(server), connection_(std::move(connection)) {
    connection_->setCallbacks(this);
    if (server_.tls_) {
      if (tls::TlsContextPtr context = server_.tls_()) {
        connection_->setTransportSocket(std::make_unique<tls::TlsSocket>(context, nullptr));
      }
    }
    codec_ = std::make_unique<Http1ServerConnection>(*connection_, *this, Http1Settings{});
    connection_->startReading();
  }
  ~Session() override { connection_->setCallbacks(nullptr); }

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
    request_ = ServerRequest{};
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
    if (too_large_) return send(ServerResponse{413, "text/plain", "body too large\n"});
    // The HTTP/1 codec serves one request at a time, so the pending
    // response is always this request's; `alive_` tells a late one that the
    // connection (and this session) is gone.
    std::weak_ptr<bool> alive = alive_;
    server_.handler_(request_, [this, alive](ServerResponse response) {
      if (!alive.expired()) send(std::move(response));
    });
  }

  void send(ServerResponse response) {
    if (encoder_ == nullptr) return;
    http::HeaderMap headers;
    headers.add(":status", std::to_string(response.status));
    headers.add("content-type", response.content_type);
    headers.add("content-length", std::to_string(response.body.size()));
    http::StreamEncoder* encoder = encoder_;
    encoder_ = nullptr;
    encoder->encodeHeaders(headers, response.body.empty());
    if (!response.body.empty()) encoder->encodeData(response.body, true);
  }

  HttpServer& server_;
  std::unique_ptr<network::Connection> connection_;
  std::unique_ptr<ServerConnection> codec_;
  http::StreamEncoder* encoder_ = nullptr;
  ServerRequest request_;
  bool too_large_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

HttpServer::HttpServer(event::Dispatcher& dispatcher, ServerHandler handler)
    : dispatcher_(dispatcher),
      handler_([handler = std::move(handler)](const ServerRequest& request,
                                              const ServerResponder& respond) {
        respond(handler(request.method, request.path));
      }) {}

HttpServer::HttpServer(event::Dispatcher& dispatcher, ServerRequestHandler handler)
    : dispatcher_(dispatcher),
      handler_([handler = std::move(handler)](const ServerRequest& request,
                                              const ServerResponder& respond) {
        respond(handler(request));
      }) {}

HttpServer::HttpServer(event::Dispatcher& dispatcher, AsyncServerRequestHandler handler)
    : dispatcher_(dispatcher), handler_(std::move(handler)) {}

HttpServer::~HttpServer() = default;

bool HttpServer::start(const network::Address& address, std::string* error) {
  int fd = network::bindListeningSocket(address, false, error);
  if (fd < 0) return false;
  listener_ = std::make_unique<network::Listener>(
      dispatcher_, fd, [this](std::unique_ptr<network::Connection> connection) {
        auto session = std::make_unique<Session>(*this, std::move(connection));
        Session* raw = session.get();
        connections_[raw] = std::move(session);
      });
  return listener_->ok();
}

void HttpServer::stop() {
  listener_.reset();
  for (auto& [raw, connection] : connections_) dispatcher_.deferDelete(std::move(connection));
  connections_.clear();
}

void HttpServer::remove(Session* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  dispatcher_.deferDelete(std::move(it->second));
  connections_.erase(it);
}

}  // namespace weft::http
