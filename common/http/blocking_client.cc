#include "common/http/blocking_client.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace weft::http {

bool HttpEndpoint::setServer(const std::string& url) {
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    tls = true;
    port = 443;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    tls = false;
    port = 80;
    rest = url.substr(7);
  } else {
    return false;
  }
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']') == std::string::npos) {
    host = rest.substr(0, colon);
    port = std::atoi(rest.c_str() + colon + 1);
  } else {
    host = rest;
  }
  return !host.empty() && port > 0;
}

BlockingHttpClient::~BlockingHttpClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
}

bool BlockingHttpClient::get(const HttpEndpoint& server, const std::string& path, int timeout_s,
                             std::string* error) {
  return request(server, "GET", path, "", timeout_s, error);
}

bool BlockingHttpClient::request(const HttpEndpoint& server, const std::string& method,
                                 const std::string& path, const std::string& body, int timeout_s,
                                 std::string* error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(server.host.c_str(), std::to_string(server.port).c_str(), &hints, &result) != 0) {
    *error = "cannot resolve " + server.host;
    return false;
  }
  fd_ = socket(result->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{timeout_s, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  bool connected = connect(fd_, result->ai_addr, result->ai_addrlen) == 0;
  freeaddrinfo(result);
  if (!connected) {
    *error = "cannot connect to " + server.host + ":" + std::to_string(server.port) + ": " +
             std::strerror(errno);
    return false;
  }
  if (server.tls) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    if (!server.insecure_skip_verify) {
      BIO* bio = BIO_new_mem_buf(server.ca_pem.data(), static_cast<int>(server.ca_pem.size()));
      X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
      int added = 0;
      while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        added += X509_STORE_add_cert(store, cert);
        X509_free(cert);
      }
      BIO_free(bio);
      if (added == 0) {
        *error = "no CA certificate to verify the API server with";
        return false;
      }
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, server.host.c_str());
    if (!server.insecure_skip_verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      if (X509_VERIFY_PARAM_set1_ip_asc(param, server.host.c_str()) != 1) {
        X509_VERIFY_PARAM_set1_host(param, server.host.c_str(), 0);
      }
    }
    if (SSL_connect(ssl_) != 1) {
      char buf[256];
      ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
      *error = "TLS handshake with " + server.host + " failed: " + buf;
      return false;
    }
  }
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + server.host +
                        "\r\nAccept: application/json\r\nUser-Agent: weft\r\n";
  if (!body.empty()) {
    // The Kubernetes API takes a PATCH body by its type: weft sends JSON
    // merge patches (RFC 7386), the one kind that needs no schema.
    const char* type = method == "PATCH" ? "application/merge-patch+json" : "application/json";
    request += std::string("Content-Type: ") + type +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  std::string token = server.token;
  if (!server.token_file.empty()) {
    if (FILE* f = std::fopen(server.token_file.c_str(), "r")) {
      char buf[8192];
      size_t n = std::fread(buf, 1, sizeof(buf), f);
      std::fclose(f);
      token.assign(buf, n);
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    }
  }
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  request += "\r\n";
  request += body;
  ssize_t sent = ssl_ ? SSL_write(ssl_, request.data(), static_cast<int>(request.size()))
                      : write(fd_, request.data(), request.size());
  if (sent != static_cast<ssize_t>(request.size())) {
    *error = "cannot send the request";
    return false;
  }
  // The response is parsed by http_parser (status, framing, chunked bodies).
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  while (!headers_done_) {
    if (!receive()) {
      *error = parse_error_.empty() ? "no response from " + server.host : parse_error_;
      return false;
    }
  }
  return true;
}

int BlockingHttpClient::onHeadersComplete(http_parser* parser) {
  auto* self = static_cast<BlockingHttpClient*>(parser->data);
  self->status_ = static_cast<int>(parser->status_code);
  self->headers_done_ = true;
  return 0;
}

int BlockingHttpClient::onBody(http_parser* parser, const char* at, size_t length) {
  static_cast<BlockingHttpClient*>(parser->data)->body_.append(at, length);
  return 0;
}

int BlockingHttpClient::onMessageComplete(http_parser* parser) {
  static_cast<BlockingHttpClient*>(parser->data)->message_done_ = true;
  return 0;
}

bool BlockingHttpClient::receive() {
  if (message_done_ || !parse_error_.empty()) return false;
  static const http_parser_settings kSettings = [] {
    http_parser_settings settings{};
    settings.on_headers_complete = onHeadersComplete;
    settings.on_body = onBody;
    settings.on_message_complete = onMessageComplete;
    return settings;
  }();
  char buf[65536];
  int n = ssl_ ? SSL_read(ssl_, buf, sizeof(buf)) : static_cast<int>(read(fd_, buf, sizeof(buf)));
  // End of stream (n <= 0) is told to the parser too: it ends a body framed
  // by the connection's close.
  size_t length = n > 0 ? static_cast<size_t>(n) : 0;
  size_t used = http_parser_execute(&parser_, &kSettings, buf, length);
  if (HTTP_PARSER_ERRNO(&parser_) != HPE_OK || used != length) {
    parse_error_ = std::string("malformed HTTP response: ") +
                   http_errno_description(HTTP_PARSER_ERRNO(&parser_));
    return false;
  }
  if (n <= 0) {
    message_done_ = true;
    return false;
  }
  return true;
}

bool BlockingHttpClient::readLine(std::string* line) {
  size_t eol;
  while ((eol = body_.find('\n')) == std::string::npos) {
    if (!receive()) {
      if (body_.empty()) return false;
      *line = std::move(body_);
      body_.clear();
      return true;
    }
  }
  *line = body_.substr(0, eol);
  body_.erase(0, eol + 1);
  return true;
}

std::string BlockingHttpClient::readAll() {
  while (receive()) {
  }
  std::string out = std::move(body_);
  body_.clear();
  return out;
}

}  // namespace weft::http
