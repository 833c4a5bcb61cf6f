#pragma once

// A blocking HTTP/1.1 client for the Kubernetes API and weft's admin
// endpoints: plain or TLS (OpenSSL, verifying the server against a CA),
// bearer-token auth, and a body read line by line through chunked encoding,
// as watch streams need; the response is parsed by http_parser. For threads that may block
// (weft-control's Kubernetes source and CA, weftctl), never for an event loop.

#include <http_parser.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace weft::http {

struct HttpEndpoint {
  std::string host;
  int port = 443;
  bool tls = true;
  std::string ca_pem;      // PEM of the cluster CA (TLS)
  std::string token;       // bearer token, or ""
  std::string token_file;  // re-read on every request: projected tokens rotate
  bool insecure_skip_verify = false;

  // "https://host:port" -> fields; false when the URL is not http(s).
  bool setServer(const std::string& url);
};

class BlockingHttpClient {
 public:
  BlockingHttpClient() = default;
  ~BlockingHttpClient();
  BlockingHttpClient(const BlockingHttpClient&) = delete;
  BlockingHttpClient& operator=(const BlockingHttpClient&) = delete;

  // Sends GET `path` and reads the status line and headers.
  bool get(const HttpEndpoint& server, const std::string& path, int timeout_s, std::string* error);
  // Any method, with a JSON body when `body` is not empty (PATCH: a JSON
  // merge patch).
  bool request(const HttpEndpoint& server, const std::string& method, const std::string& path,
               const std::string& body, int timeout_s, std::string* error);
  int status() const { return status_; }
  int fd() const { return fd_; }
  // Next body line (without "\n"); false at the end of the body or on error.
  bool readLine(std::string* line);
  // The whole (remaining) body.
  std::string readAll();

 private:
  static int onHeadersComplete(http_parser* parser);
  static int onBody(http_parser* parser, const char* at, size_t length);
  static int onMessageComplete(http_parser* parser);
  // Reads once from the connection into the parser; false at the end of the
  // message, on end of stream or on a parse error.
  bool receive();

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  http_parser parser_{};
  int status_ = 0;
  bool headers_done_ = false;
  bool message_done_ = false;
  std::string parse_error_;
  std::string body_;  // parsed body bytes not yet handed out
};

}  // namespace weft::http
