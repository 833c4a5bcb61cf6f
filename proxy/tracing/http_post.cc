#include "proxy/tracing/http_post.h"

#include "common/http/http1_client.h"
#include "common/network/tcp_connection.h"
#include "common/tls/tls_socket.h"

namespace weft::tracing {

HttpPost::HttpPost(event::Dispatcher& dispatcher, network::Address server, tls::TlsContextPtr tls,
                   http::HeaderMap headers, std::string body, OnDone on_done)
    : dispatcher_(dispatcher),
      server_(server),
      tls_(std::move(tls)),
      headers_(std::move(headers)),
      body_(std::move(body)),
      on_done_(std::move(on_done)) {}

HttpPost::~HttpPost() {
  if (connection_) {
    connection_->setCallbacks(nullptr);
    connection_->close(network::CloseType::kNoFlush);
  }
}

void HttpPost::start() {
  connection_ = network::TcpConnection::connectTo(dispatcher_, server_);
  if (tls_) connection_->setTransportSocket(std::make_unique<tls::TlsSocket>(tls_, nullptr));
  connection_->setCallbacks(this);
  codec_ = std::make_unique<http::Http1ClientConnection>(*connection_, *this);
  headers_.set(":method", "POST");
  headers_.set("content-length", std::to_string(body_.size()));
  http::StreamEncoder& request = codec_->newStream(*this);
  request.encodeHeaders(headers_, false);
  request.encodeData(body_, true);
}

void HttpPost::onData(std::string_view data, bool end_stream) {
  codec_->dispatch(data);
  if (end_stream && !done_) codec_->onRemoteEof();
}

void HttpPost::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::kConnected) return;
  finish(0, event == network::ConnectionEvent::kConnectFailed ? "connect failed"
                                                              : "connection closed");
}

void HttpPost::decodeHeaders(http::HeaderMap&& headers, bool end_stream) {
  status_ = headers.statusCode();
  if (end_stream) finish(status_, "");
}

void HttpPost::decodeData(std::string_view, bool end_stream) {
  if (end_stream) finish(status_, "");
}

void HttpPost::onResetStream(http::StreamResetReason reason) {
  finish(0, std::string("stream reset: ") + http::resetReasonName(reason));
}

void HttpPost::finish(int status, const std::string& reason) {
  if (done_) return;
  done_ = true;
  if (connection_) {
    connection_->setCallbacks(nullptr);
    connection_->close(network::CloseType::kNoFlush);
    // The codec may be mid-call up the stack: both go on a later tick.
    dispatcher_.deferDelete(std::move(codec_));
    dispatcher_.deferDelete(std::move(connection_));
  }
  on_done_(status, reason);
}

}  // namespace weft::tracing
