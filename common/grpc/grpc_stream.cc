#include "common/grpc/grpc_stream.h"

#include <cstdlib>

#include "common/base/logging.h"
#include "common/http/http2_codec.h"
#include "common/network/tcp_connection.h"
#include "common/tls/tls_socket.h"

namespace weft::grpc {

namespace {
constexpr int kUnavailable = 14;
constexpr size_t kMaxMessage = 64 << 20;

void appendFrame(std::string_view message, std::string& out) {
  uint32_t n = static_cast<uint32_t>(message.size());
  char header[5] = {0, static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                    static_cast<char>(n >> 8), static_cast<char>(n)};
  out.append(header, 5);
  out.append(message);
}
}  // namespace

GrpcStream::GrpcStream(event::Dispatcher& dispatcher, network::Address server,
                       std::string authority, std::string method_path, OnMessage on_message,
                       OnClose on_close)
    : dispatcher_(dispatcher),
      server_(server),
      authority_(std::move(authority)),
      method_path_(std::move(method_path)),
      on_message_(std::move(on_message)),
      on_close_(std::move(on_close)) {}

GrpcStream::~GrpcStream() {
  if (connection_) {
    connection_->setCallbacks(nullptr);
    connection_->close(network::CloseType::kNoFlush);
  }
}

void GrpcStream::start() {
  connection_ = network::TcpConnection::connectTo(dispatcher_, server_);
  if (tls_) connection_->setTransportSocket(std::make_unique<tls::TlsSocket>(tls_, tls_observer_));
  connection_->setCallbacks(this);
  codec_ = std::make_unique<http::Http2ClientConnection>(*connection_, *this);
  http::HeaderMap headers;
  headers.add(":method", "POST");
  headers.add(":scheme", tls_ ? "https" : "http");
  headers.add(":path", method_path_);
  headers.add(":authority", authority_);
  headers.add("content-type", "application/grpc");
  headers.add("te", "trailers");
  for (const auto& [name, value] : metadata_) headers.add(name, value);
  encoder_ = &codec_->newStream(*this);
  encoder_->encodeHeaders(headers, false);
  if (!pending_.empty() || send_closed_) {
    encoder_->encodeData(pending_, send_closed_);
    pending_.clear();
  }
}

void GrpcStream::closeSend() {
  if (closed_ || send_closed_) return;
  send_closed_ = true;
  if (encoder_ != nullptr) encoder_->encodeData("", true);
}

void GrpcStream::send(std::string_view message) {
  if (closed_) return;
  if (encoder_ == nullptr) {
    appendFrame(message, pending_);
    return;
  }
  std::string frame;
  appendFrame(message, frame);
  encoder_->encodeData(frame, false);
}

void GrpcStream::onData(std::string_view data, bool end_stream) {
  if (end_stream) {
    close(kUnavailable, "connection closed");
    return;
  }
  codec_->dispatch(data);
}

void GrpcStream::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::kConnected) return;
  close(kUnavailable,
        event == network::ConnectionEvent::kConnectFailed ? "connect failed" : "connection closed");
}

void GrpcStream::onProtocolError() { close(kUnavailable, "HTTP/2 protocol error"); }

void GrpcStream::decodeHeaders(http::HeaderMap&& headers, bool end_stream) {
  if (headers.statusCode() != 200) {
    close(kUnavailable, "HTTP status " + std::string(headers.status()));
    return;
  }
  if (end_stream) finishFromHeaders(headers);  // trailers-only response
}

void GrpcStream::decodeData(std::string_view data, bool end_stream) {
  inbound_.append(data);
  size_t offset = 0;
  while (inbound_.size() - offset >= 5) {
    const auto* p = reinterpret_cast<const unsigned char*>(inbound_.data() + offset);
    uint32_t n = (uint32_t(p[1]) << 24) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 8) | p[4];
    if (p[0] != 0 || n > kMaxMessage) {
      close(13, p[0] != 0 ? "compressed messages are not supported" : "message too large");
      return;
    }
    if (inbound_.size() - offset < 5 + n) break;
    on_message_(std::string_view(inbound_).substr(offset + 5, n));
    if (closed_) return;
    offset += 5 + n;
  }
  inbound_.erase(0, offset);
  if (end_stream) close(kUnavailable, "stream ended without status");
}

void GrpcStream::decodeTrailers(http::HeaderMap&& trailers) { finishFromHeaders(trailers); }

void GrpcStream::finishFromHeaders(const http::HeaderMap& headers) {
  const std::string* status = headers.get("grpc-status");
  const std::string* message = headers.get("grpc-message");
  close(status ? std::atoi(status->c_str()) : 2, message ? *message : "");
}

void GrpcStream::onResetStream(http::StreamResetReason reason) {
  encoder_ = nullptr;
  close(kUnavailable, std::string("stream reset: ") + http::resetReasonName(reason));
}

void GrpcStream::close(int status, const std::string& message) {
  if (closed_) return;
  closed_ = true;
  encoder_ = nullptr;
  if (connection_) {
    connection_->setCallbacks(nullptr);
    connection_->close(network::CloseType::kNoFlush);
    // The codec may be mid-call up the stack: let both go on a later tick.
    dispatcher_.deferDelete(std::move(codec_));
    dispatcher_.deferDelete(std::move(connection_));
  }
  on_close_(status, message);
}

}  // namespace weft::grpc
