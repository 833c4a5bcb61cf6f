#include "common/http/http1_server.h"

#include <algorithm>
#include <climits>

namespace weft::http {

namespace {
Http1ServerConnection* self(http_parser* p) { return static_cast<Http1ServerConnection*>(p->data); }

const char* reasonPhrase(int code) {
  switch (code) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

bool statusHasNoBody(int code) { return (code >= 100 && code < 200) || code == 204 || code == 304; }
}  // namespace

const http_parser_settings Http1ServerConnection::kParserSettings = [] {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_message_begin = &Http1ServerConnection::onMessageBegin;
  s.on_url = &Http1ServerConnection::onUrl;
  s.on_header_field = &Http1ServerConnection::onHeaderField;
  s.on_header_value = &Http1ServerConnection::onHeaderValue;
  s.on_headers_complete = &Http1ServerConnection::onHeadersComplete;
  s.on_body = &Http1ServerConnection::onBody;
  s.on_message_complete = &Http1ServerConnection::onMessageComplete;
  return s;
}();

Http1ServerConnection::Http1ServerConnection(network::ByteStream& connection,
                                             ServerConnectionCallbacks& callbacks,
                                             Http1Settings settings)
    : connection_(connection), callbacks_(callbacks), settings_(settings) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

void Http1ServerConnection::dispatch(std::string_view data) {
  if (closed_) return;
  if (tunnel_request_) {
    if (decoder_ != nullptr && !data.empty()) decoder_->decodeData(data, false);
    return;
  }
  if (parser_paused_) {
    // A pipelined request arrived while a response is in progress.
    pending_input_.append(data);
    if (read_disabled_for_pipeline_ == 0) {
      read_disabled_for_pipeline_ = 1;
      connection_.readDisable(true);
    }
    return;
  }
  size_t parsed = http_parser_execute(&parser_, &kParserSettings, data.data(), data.size());
  if (closed_) return;
  enum http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if (err == HPE_PAUSED) {
    pending_input_.append(data.substr(parsed));
    if (!pending_input_.empty() && read_disabled_for_pipeline_ == 0) {
      read_disabled_for_pipeline_ = 1;
      connection_.readDisable(true);
    }
    return;
  }
  if (err != HPE_OK) {
    if (refusal_code_ != 0) {
      sendError(refusal_code_, refusal_reason_);
    } else if (header_overflow_) {
      sendError(431, "request headers too large");
    } else {
      sendError(400, http_errno_description(err));
    }
    return;
  }
  if (refuse_connect_) {
    sendError(405, "CONNECT is not enabled on this listener (upgrade_configs)");
    return;
  }
  if (parser_.upgrade && tunnel_request_) {
    // The rest of the bytes belong to the tunnel.
    std::string_view rest = data.substr(parsed);
    if (decoder_ != nullptr && !rest.empty()) decoder_->decodeData(rest, false);
  }
}

void Http1ServerConnection::onRemoteEof() {
  if (tunnel_request_ && decoder_ != nullptr) {
    decoder_->decodeData(std::string_view(), true);
    return;
  }
  if (decoder_ != nullptr && !request_complete_) {
    StreamDecoder* d = decoder_;
    decoder_ = nullptr;
    d->onResetStream(StreamResetReason::kRemoteReset);
  }
}

void Http1ServerConnection::sendError(int code, const char* reason) {
  if (decoder_ != nullptr) {
    StreamDecoder* d = decoder_;
    decoder_ = nullptr;
    d->onResetStream(StreamResetReason::kProtocolError);
  }
  if (!response_started_) {
    std::string body = std::string(reason) + "\n";
    std::string out =
        "HTTP/1.1 " + std::to_string(code) + " " + reasonPhrase(code) +
        "\r\ncontent-type: text/plain\r\ncontent-length: " + std::to_string(body.size()) +
        "\r\nconnection: close\r\n\r\n" + body;
    connection_.write(out);
  }
  closed_ = true;
  connection_.close(network::CloseType::kFlushWrite);
}

int Http1ServerConnection::onMessageBegin(http_parser* p) {
  auto* s = self(p);
  s->url_.clear();
  s->header_collector_.reset();
  s->headers_complete_ = false;
  s->request_complete_ = false;
  s->request_end_sent_ = false;
  s->response_started_ = false;
  s->response_chunked_ = false;
  return 0;
}

int Http1ServerConnection::onUrl(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  s->url_.append(at, len);
  if (s->url_.size() + s->header_collector_.bytes() > s->settings_.max_request_headers_bytes) {
    s->header_overflow_ = true;
    return 1;
  }
  return 0;
}

int Http1ServerConnection::onHeaderField(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  if (s->headers_complete_) return 0;  // trailers: not forwarded over HTTP/1
  s->header_collector_.onField(std::string_view(at, len));
  if (s->url_.size() + s->header_collector_.bytes() > s->settings_.max_request_headers_bytes ||
      s->header_collector_.count() > s->settings_.max_headers_count) {
    s->header_overflow_ = true;
    return 1;
  }
  return 0;
}

int Http1ServerConnection::onHeaderValue(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  if (s->headers_complete_) return 0;
  s->header_collector_.onValue(std::string_view(at, len));
  if (s->url_.size() + s->header_collector_.bytes() > s->settings_.max_request_headers_bytes) {
    s->header_overflow_ = true;
    return 1;
  }
  return 0;
}

int Http1ServerConnection::onHeadersComplete(http_parser* p) {
  auto* s = self(p);
  s->headers_complete_ = true;
  auto refuse = [s](int code, const char* reason) {
    s->refusal_code_ = code;
    s->refusal_reason_ = reason;
    return -1;  // stops http_parser; dispatch() answers
  };
  HeaderMap regular;
  if (!s->header_collector_.finish(regular)) {
    return refuse(400, "invalid header field name (RFC 9110 section 5.1)");
  }
  // RFC 9112 §3.2: more than one Host is a 400 (which one would route?).
  size_t hosts = 0;
  for (const auto& [name, value] : regular.entries()) hosts += name == "host";
  if (hosts > 1) return refuse(400, "more than one host header");
  // A fragment is never part of a request target (RFC 9110 §4.2.5): a
  // client sending one is broken or probing path matching.
  if (s->url_.find('#') != std::string::npos) return refuse(400, "fragment in the request target");
  if (const std::string* te = regular.get("transfer-encoding")) {
    // Only chunked is decoded here; forwarding "gzip, chunked" as a plain
    // body would drop the gzip coding (Envoy: 501 too).
    std::string coding = *te;
    toLowerInPlace(coding);
    size_t b = coding.find_first_not_of(" \t"), e = coding.find_last_not_of(" \t");
    if (b == std::string::npos || coding.substr(b, e - b + 1) != "chunked") {
      return refuse(501, "transfer-encoding other than chunked is not implemented");
    }
  }

  HeaderMap headers;
  headers.add(":method", http_method_str(static_cast<http_method>(p->method)));
  // Absolute-form request targets (proxies) carry the authority in the URL.
  std::string path = s->url_;
  std::string authority;
  if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) {
    size_t host_start = path.find("//") + 2;
    size_t path_start = path.find('/', host_start);
    authority = path.substr(
        host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start);
    path = path_start == std::string::npos ? "/" : path.substr(path_start);
  }
  if (authority.empty()) {
    if (const std::string* host = regular.get("host")) authority = *host;
  }
  headers.add(":path", std::move(path));
  headers.add(":authority", std::move(authority));
  headers.add(":scheme", "http");

  s->request_http11_ = p->http_major == 1 && p->http_minor >= 1;
  s->keep_alive_ = http_should_keep_alive(p) != 0;
  s->response_is_head_ = p->method == HTTP_HEAD;

  std::string upgrade_token;
  if (p->upgrade) {
    if (p->method == HTTP_CONNECT) {
      upgrade_token = "connect";
    } else if (const std::string* upgrade = regular.get("upgrade")) {
      upgrade_token = *upgrade;
      toLowerInPlace(upgrade_token);
    }
    const auto& allowed = s->settings_.upgrade_types;
    if (std::find(allowed.begin(), allowed.end(), upgrade_token) != allowed.end()) {
      s->tunnel_request_ = true;
    } else if (p->method == HTTP_CONNECT) {
      s->refuse_connect_ = true;
      return 0;
    } else {
      // An upgrade nobody enabled (e.g. curl's "Upgrade: h2c"): serve the
      // request as plain HTTP/1.1, as the RFC allows.
      p->upgrade = 0;
    }
  }

  const std::string* expect = regular.get("expect");
  bool expect_continue = expect != nullptr && equalsIgnoreCase(*expect, "100-continue");
  regular.remove("expect");
  regular.remove("host");
  std::string upgrade_value = regular.get("upgrade") ? *regular.get("upgrade") : "";
  http1::removeConnectionHeaders(regular);
  if (s->tunnel_request_ && !upgrade_value.empty()) regular.add("upgrade", upgrade_value);
  for (const auto& [name, value] : regular.entries()) headers.add(name, value);

  if (expect_continue) {
    // Like Envoy's default: the proxy answers 100 itself, so clients never
    // wait on an upstream that does not implement Expect.
    s->connection_.write("HTTP/1.1 100 Continue\r\n\r\n");
  }

  bool chunked = (p->flags & F_CHUNKED) != 0;
  bool end_stream = !s->tunnel_request_ && !chunked &&
                    (p->content_length == 0 || p->content_length == ULLONG_MAX);
  s->decoder_ = &s->callbacks_.newStream(*s);
  if (end_stream) s->request_end_sent_ = true;
  s->decoder_->decodeHeaders(std::move(headers), end_stream);
  return 0;
}

int Http1ServerConnection::onBody(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  if (s->decoder_ != nullptr) s->decoder_->decodeData(std::string_view(at, len), false);
  return 0;
}

int Http1ServerConnection::onMessageComplete(http_parser* p) {
  auto* s = self(p);
  if (s->tunnel_request_ || s->refuse_connect_) return 0;  // the tunnel ends at EOF
  s->request_complete_ = true;
  if (s->decoder_ != nullptr && !s->request_end_sent_) {
    s->request_end_sent_ = true;
    s->decoder_->decodeData(std::string_view(), true);
  }
  if (s->closed_) return 0;
  if (s->decoder_ != nullptr) {
    // Hold further (pipelined) requests until this response is written.
    s->parser_paused_ = true;
    http_parser_pause(p, 1);
  }
  return 0;
}

void Http1ServerConnection::encodeHeaders(const HeaderMap& headers, bool end_stream) {
  if (closed_) return;
  response_started_ = true;
  int code = headers.statusCode();
  if (code == 0) code = 502;
  std::string out;
  out.reserve(256);
  out.append(request_http11_ ? "HTTP/1.1 " : "HTTP/1.0 ");
  out.append(std::to_string(code)).append(" ").append(reasonPhrase(code)).append("\r\n");
  http1::appendHeaderBlock(headers, out);
  if (tunnel_request_ && (code == 101 || (code >= 200 && code < 300 && !headers.has("upgrade")))) {
    // The tunnel is up: no framing from here on, both ways.
    tunnel_established_ = true;
    if (const std::string* upgrade = headers.get("upgrade")) {
      out.append("connection: upgrade\r\nupgrade: ").append(*upgrade).append("\r\n");
    }
    out.append("\r\n");
    connection_.write(out);
    connection_.enableHalfClose(true);
    if (end_stream) encodeData(std::string_view(), true);
    return;
  }
  if (tunnel_request_) close_after_response_ = true;  // refused upgrade: no reuse
  bool no_body = statusHasNoBody(code) || response_is_head_;
  response_chunked_ = false;
  if (!headers.has("content-length") && !no_body) {
    if (end_stream) {
      out.append("content-length: 0\r\n");
    } else if (request_http11_) {
      out.append("transfer-encoding: chunked\r\n");
      response_chunked_ = true;
    } else {
      close_after_response_ = true;  // HTTP/1.0: the close delimits the body
    }
  }
  if (!keep_alive_ || draining_) close_after_response_ = true;
  if (close_after_response_) {
    out.append("connection: close\r\n");
  } else if (!request_http11_) {
    out.append("connection: keep-alive\r\n");
  }
  out.append("\r\n");
  connection_.write(out);
  if (end_stream) onResponseComplete();
}

void Http1ServerConnection::encodeData(std::string_view data, bool end_stream) {
  if (closed_) return;
  if (tunnel_established_) {
    if (!data.empty()) connection_.write(data);
    if (end_stream) {
      // The upstream side of the tunnel is gone: end the whole connection.
      decoder_ = nullptr;
      closed_ = true;
      connection_.close(network::CloseType::kFlushWrite);
    }
    return;
  }
  if (!response_is_head_) {
    if (response_chunked_) {
      std::string out;
      out.reserve(data.size() + 16);
      http1::appendChunk(data, out);
      if (end_stream) out.append("0\r\n\r\n");
      connection_.write(out);
    } else if (!data.empty()) {
      connection_.write(data);
    }
  }
  if (end_stream) onResponseComplete();
}

void Http1ServerConnection::encodeTrailers(const HeaderMap& trailers) {
  if (closed_) return;
  if (response_chunked_ && !response_is_head_) {
    std::string out = "0\r\n";
    http1::appendHeaderBlock(trailers, out);
    out.append("\r\n");
    connection_.write(out);
  }
  onResponseComplete();
}

void Http1ServerConnection::onResponseComplete() {
  decoder_ = nullptr;
  // An early response (request body still arriving) also ends the
  // connection: the rest of that body cannot be told from a new request.
  if (close_after_response_ || !request_end_sent_ || draining_) {
    closed_ = true;
    connection_.close(network::CloseType::kFlushWrite);
    return;
  }
  resumeAfterResponse();
}

void Http1ServerConnection::resumeAfterResponse() {
  close_after_response_ = false;
  if (!parser_paused_) return;  // still inside http_parser_execute: it continues
  parser_paused_ = false;
  http_parser_pause(&parser_, 0);
  std::string pending;
  pending.swap(pending_input_);
  if (read_disabled_for_pipeline_ != 0) {
    read_disabled_for_pipeline_ = 0;
    connection_.readDisable(false);
  }
  if (!pending.empty()) dispatch(pending);
}

void Http1ServerConnection::resetStream(StreamResetReason) {
  // HTTP/1 has no stream reset: the connection is the stream.
  decoder_ = nullptr;
  closed_ = true;
  connection_.close(network::CloseType::kNoFlush);
}

void Http1ServerConnection::releaseDecoder(StreamDecoder& decoder) {
  if (decoder_ != &decoder) return;  // a pipelined request may already have the connection
  // Its response never completed (that would have detached it): nobody
  // will finish this exchange now.
  resetStream(StreamResetReason::kLocalReset);
}

void Http1ServerConnection::readDisable(bool disable) {
  if (!closed_) connection_.readDisable(disable);
}

void Http1ServerConnection::onAboveWriteBufferHighWatermark() {
  if (decoder_ != nullptr) decoder_->onAboveWriteBufferHighWatermark();
}

void Http1ServerConnection::onBelowWriteBufferLowWatermark() {
  if (decoder_ != nullptr) decoder_->onBelowWriteBufferLowWatermark();
}

}  // namespace weft::http
