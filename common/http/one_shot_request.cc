#include "common/http/one_shot_request.h"

#include "common/http/http1_client.h"
#include "common/network/tcp_connection.h"
#include "common/tls/tls_socket.h"

namespace weft::http {

OneShotRequest::OneShotRequest(event::Dispatcher& dispatcher, network::Address server,
                               tls::TlsContextPtr tls, http::HeaderMap headers, std::string body,
                               OnDone on_done)
    : dispatcher_(dispatcher),
      server_(server),
      tls_(std::move(tls)),
      headers_(std::move(headers)),
      body_(std::move(body)),
      on_done_(std::move(on_done)) {}

OneShotRequest::~OneShotRequest() {
  if (connection_) {
    connection_->setCallbacks(nullptr);
    connection_->close(network::CloseType::kNoFlush);
  }
}

void OneShotRequest::start() {
  connection_ = network::TcpConnection::connectTo(dispatcher_, server_);
  if (tls_) connection_->setTransportSocket(std::make_unique<tls::TlsSocket>(tls_, nullptr));
  connection_->setCallbacks(this);
  codec_ = std::make_unique<http::Http1ClientConnection>(*connection_, *this);
  if (!body_.empty()) headers_.set("content-length", std::to_string(body_.size()));
  http::StreamEncoder& request = codec_->newStream(*this);
  request.encodeHeaders(headers_, body_.empty());
  if (!body_.empty()) request.encodeData(body_, true);
}

void OneShotRequest::onData(std::string_view data, bool end_stream) {
  codec_->dispatch(data);
  if (end_stream && !done_) codec_->onRemoteEof();
}

void OneShotRequest::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::kConnected) return;
  finish(0, event == network::ConnectionEvent::kConnectFailed ? "connect failed"
                                                              : "connection closed");
}

void OneShotRequest::decodeHeaders(http::HeaderMap&& headers, bool end_stream) {
  status_ = headers.statusCode();
  if (end_stream) finish(status_, "");
}

void OneShotRequest::decodeData(std::string_view, bool end_stream) {
  if (end_stream) finish(status_, "");
}

void OneShotRequest::onResetStream(http::StreamResetReason reason) {
  finish(0, std::string("stream reset: ") + http::resetReasonName(reason));
}

void OneShotRequest::finish(int status, const std::string& reason) {
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

}  // namespace weft::http
