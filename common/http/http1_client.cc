#include "common/http/http1_client.h"

#include "common/base/logging.h"

namespace weft::http {

namespace {
Http1ClientConnection* self(http_parser* p) { return static_cast<Http1ClientConnection*>(p->data); }

bool methodUsuallyHasBody(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}
}  // namespace

const http_parser_settings Http1ClientConnection::kParserSettings = [] {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_header_field = &Http1ClientConnection::onHeaderField;
  s.on_header_value = &Http1ClientConnection::onHeaderValue;
  s.on_headers_complete = &Http1ClientConnection::onHeadersComplete;
  s.on_body = &Http1ClientConnection::onBody;
  s.on_message_complete = &Http1ClientConnection::onMessageComplete;
  return s;
}();

Http1ClientConnection::Http1ClientConnection(network::ByteStream& connection,
                                             ClientConnectionCallbacks& callbacks)
    : connection_(connection), callbacks_(callbacks) {
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
}

StreamEncoder& Http1ClientConnection::newStream(StreamDecoder& response_decoder) {
  decoder_ = &response_decoder;
  request_chunked_ = false;
  request_complete_ = false;
  request_is_head_ = false;
  response_end_sent_ = false;
  headers_complete_ = false;
  tunnel_request_ = false;
  request_is_connect_ = false;
  tunnel_ = false;
  header_collector_.reset();
  return *this;
}

void Http1ClientConnection::encodeHeaders(const HeaderMap& headers, bool end_stream) {
  std::string out;
  out.reserve(256);
  std::string_view method = headers.method();
  request_is_head_ = method == "HEAD";
  // A CONNECT that came over HTTP/2 has no :path, only :authority (RFC 9113
  // §8.5): that is HTTP/1.1's authority-form target.
  std::string_view target =
      method == "CONNECT" && headers.path().empty() ? headers.authority() : headers.path();
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  out.append("host: ").append(headers.authority()).append("\r\n");
  http1::appendHeaderBlock(headers, out);
  request_is_connect_ = method == "CONNECT";
  const std::string* upgrade = headers.get("upgrade");
  tunnel_request_ = request_is_connect_ || upgrade != nullptr;
  if (upgrade != nullptr) {
    out.append("connection: upgrade\r\nupgrade: ").append(*upgrade).append("\r\n");
  }
  if (tunnel_request_) {
    // No body framing: what follows the headers is the tunnel's bytes.
    going_away_ = true;  // a tunnelled connection is never pooled again
  } else if (!headers.has("content-length")) {
    if (!end_stream) {
      out.append("transfer-encoding: chunked\r\n");
      request_chunked_ = true;
    } else if (methodUsuallyHasBody(method)) {
      out.append("content-length: 0\r\n");
    }
  }
  out.append("\r\n");
  connection_.write(out);
  if (end_stream) request_complete_ = true;
}

void Http1ClientConnection::encodeData(std::string_view data, bool end_stream) {
  if (tunnel_request_) {
    if (!data.empty()) connection_.write(data);
    if (end_stream) connection_.shutdownWrite();
    return;
  }
  if (request_chunked_) {
    std::string out;
    out.reserve(data.size() + 16);
    http1::appendChunk(data, out);
    if (end_stream) out.append("0\r\n\r\n");
    connection_.write(out);
  } else if (!data.empty()) {
    connection_.write(data);
  }
  if (end_stream) request_complete_ = true;
}

void Http1ClientConnection::encodeTrailers(const HeaderMap& trailers) {
  if (request_chunked_) {
    std::string out = "0\r\n";
    http1::appendHeaderBlock(trailers, out);
    out.append("\r\n");
    connection_.write(out);
  }
  request_complete_ = true;
}

void Http1ClientConnection::resetStream(StreamResetReason) {
  // The connection is the stream: it cannot be reused.
  decoder_ = nullptr;
  going_away_ = true;
  connection_.close(network::CloseType::kNoFlush);
}

void Http1ClientConnection::readDisable(bool disable) { connection_.readDisable(disable); }

void Http1ClientConnection::releaseDecoder(StreamDecoder& decoder) {
  if (decoder_ != &decoder) return;  // that exchange is over; the connection may serve another
  decoder_ = nullptr;
  // Abandoned mid-exchange: the rest of the response (or of the request)
  // would be taken for the next one's.
  if (!response_end_sent_ || !request_complete_) resetStream(StreamResetReason::kLocalReset);
}

void Http1ClientConnection::dispatch(std::string_view data) {
  if (tunnel_) {
    if (decoder_ != nullptr && !data.empty()) decoder_->decodeData(data, false);
    return;
  }
  if (decoder_ == nullptr) {
    // Bytes with no request outstanding: the peer is not speaking HTTP/1.1.
    going_away_ = true;
    callbacks_.onProtocolError();
    return;
  }
  if (HTTP_PARSER_ERRNO(&parser_) == HPE_PAUSED) http_parser_pause(&parser_, 0);
  size_t parsed = http_parser_execute(&parser_, &kParserSettings, data.data(), data.size());
  if (tunnel_) {
    std::string_view rest = data.substr(parsed);
    if (decoder_ != nullptr && !rest.empty()) decoder_->decodeData(rest, false);
    return;
  }
  enum http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if (err != HPE_OK && err != HPE_PAUSED) {
    going_away_ = true;
    if (decoder_ != nullptr) {
      StreamDecoder* d = decoder_;
      decoder_ = nullptr;
      d->onResetStream(StreamResetReason::kProtocolError);
    }
    callbacks_.onProtocolError();
  }
}

void Http1ClientConnection::onRemoteEof() {
  going_away_ = true;
  if (tunnel_) {
    StreamDecoder* d = decoder_;
    decoder_ = nullptr;
    if (d != nullptr) d->decodeData(std::string_view(), true);
    callbacks_.onStreamComplete();
    return;
  }
  // A body delimited by connection close completes here.
  if (decoder_ != nullptr && headers_complete_) {
    if (HTTP_PARSER_ERRNO(&parser_) == HPE_PAUSED) http_parser_pause(&parser_, 0);
    http_parser_execute(&parser_, &kParserSettings, nullptr, 0);
  }
}

void Http1ClientConnection::onConnectionClosed(StreamResetReason reason) {
  going_away_ = true;
  if (decoder_ != nullptr) {
    StreamDecoder* d = decoder_;
    decoder_ = nullptr;
    d->onResetStream(reason);
  }
}

int Http1ClientConnection::onHeaderField(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  if (!s->headers_complete_) s->header_collector_.onField(std::string_view(at, len));
  return 0;
}

int Http1ClientConnection::onHeaderValue(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  if (!s->headers_complete_) s->header_collector_.onValue(std::string_view(at, len));
  return 0;
}

int Http1ClientConnection::onHeadersComplete(http_parser* p) {
  auto* s = self(p);
  int code = p->status_code;
  if (code >= 100 && code < 200 && !(code == 101 && s->tunnel_request_)) {
    // Interim responses are not forwarded; the final one follows.
    s->skipping_informational_ = true;
    s->header_collector_.reset();
    return 0;
  }
  s->headers_complete_ = true;
  HeaderMap headers;
  headers.add(":status", std::to_string(code));
  HeaderMap regular;
  if (!s->header_collector_.finish(regular)) {
    // RFC 9112 §5.1 / RFC 9110 §5.1: a response a lenient client would
    // read differently is not forwarded (502 to the client).
    LOG_DEBUG("upstream response: invalid header field name");
    return -1;
  }
  if (const std::string* upgrade = regular.get("upgrade")) s->upgrade_value_ = *upgrade;
  http1::removeConnectionHeaders(regular);
  for (const auto& [name, value] : regular.entries()) headers.add(name, value);
  if (!http_should_keep_alive(p)) s->going_away_ = true;

  if (s->tunnel_request_ &&
      (code == 101 || (s->request_is_connect_ && code >= 200 && code < 300))) {
    s->tunnel_ = true;
    s->connection_.enableHalfClose(true);
    if (code == 101) headers.add("upgrade", s->upgrade_value_);
    // Stop parsing after these headers: the rest is the tunnel's.
    p->upgrade = 1;
    if (s->decoder_ != nullptr) s->decoder_->decodeHeaders(std::move(headers), false);
    return 0;
  }
  bool chunked = (p->flags & F_CHUNKED) != 0;
  bool end_stream =
      s->request_is_head_ || code == 204 || code == 304 || (!chunked && p->content_length == 0);
  if (end_stream) s->response_end_sent_ = true;
  if (s->decoder_ != nullptr) s->decoder_->decodeHeaders(std::move(headers), end_stream);
  // Tells http_parser that a HEAD response has no body.
  return s->request_is_head_ ? 1 : 0;
}

int Http1ClientConnection::onBody(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  if (s->decoder_ != nullptr) s->decoder_->decodeData(std::string_view(at, len), false);
  return 0;
}

int Http1ClientConnection::onMessageComplete(http_parser* p) {
  auto* s = self(p);
  if (s->tunnel_) return 0;  // the tunnel ends at EOF
  if (s->skipping_informational_) {
    s->skipping_informational_ = false;
    return 0;
  }
  StreamDecoder* d = s->decoder_;
  s->decoder_ = nullptr;
  // A response that came before the request was fully sent leaves the
  // connection mid-message: it cannot be reused.
  if (!s->request_complete_) s->going_away_ = true;
  if (d != nullptr && !s->response_end_sent_) {
    s->response_end_sent_ = true;
    d->decodeData(std::string_view(), true);
  }
  s->callbacks_.onStreamComplete();
  http_parser_pause(p, 1);  // one response per request: stop here
  return 0;
}

void Http1ClientConnection::onAboveWriteBufferHighWatermark() {
  if (decoder_ != nullptr) decoder_->onAboveWriteBufferHighWatermark();
}

void Http1ClientConnection::onBelowWriteBufferLowWatermark() {
  if (decoder_ != nullptr) decoder_->onBelowWriteBufferLowWatermark();
}

}  // namespace weft::http
