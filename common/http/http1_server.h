#pragma once

// HTTP/1.1 server codec over http_parser: one request at a time; pipelined
// requests wait (reading paused) until the response in progress completes.

#include <http_parser.h>

#include <string>
#include <vector>

#include "common/http/codec.h"
#include "common/http/http1_common.h"
#include "common/network/byte_stream.h"

namespace weft::http {

struct Http1Settings {
  size_t max_request_headers_bytes = 60 * 1024;  // Envoy's default 60 KiB
  uint32_t max_headers_count = 100;              // Envoy's default
  // Upgrade tokens tunnelled after the response ("websocket", "connect").
  std::vector<std::string> upgrade_types;
};

class Http1ServerConnection : public ServerConnection, public StreamEncoder {
 public:
  Http1ServerConnection(network::ByteStream& connection, ServerConnectionCallbacks& callbacks,
                        Http1Settings settings);

  // ServerConnection
  void dispatch(std::string_view data) override;
  void onRemoteEof() override;
  void shutdownNotice() override { draining_ = true; }
  void abortIncompleteRequest() override { sendError(408, "request headers timeout"); }
  size_t activeStreams() const override { return decoder_ != nullptr ? 1 : 0; }
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  // StreamEncoder (the response)
  void encodeHeaders(const HeaderMap& headers, bool end_stream) override;
  void encodeData(std::string_view data, bool end_stream) override;
  void encodeTrailers(const HeaderMap& trailers) override;
  void resetStream(StreamResetReason reason) override;
  void readDisable(bool disable) override;
  void releaseDecoder(StreamDecoder& decoder) override;

 private:
  static int onMessageBegin(http_parser* p);
  static int onUrl(http_parser* p, const char* at, size_t len);
  static int onHeaderField(http_parser* p, const char* at, size_t len);
  static int onHeaderValue(http_parser* p, const char* at, size_t len);
  static int onHeadersComplete(http_parser* p);
  static int onBody(http_parser* p, const char* at, size_t len);
  static int onMessageComplete(http_parser* p);
  static const http_parser_settings kParserSettings;

  void sendError(int code, const char* reason);
  void onResponseComplete();
  void resumeAfterResponse();

  network::ByteStream& connection_;
  ServerConnectionCallbacks& callbacks_;
  Http1Settings settings_;
  http_parser parser_;
  http1::HeaderCollector header_collector_;
  std::string url_;
  bool headers_complete_ = false;
  bool header_overflow_ = false;
  // Set by a parser callback that refused the request (the parser stops):
  // the status and reason the client gets.
  int refusal_code_ = 0;
  const char* refusal_reason_ = "";
  StreamDecoder* decoder_ = nullptr;
  bool request_complete_ = false;
  bool request_end_sent_ = false;
  bool response_started_ = false;
  bool response_chunked_ = false;
  bool response_is_head_ = false;
  bool request_http11_ = true;
  bool keep_alive_ = true;
  bool close_after_response_ = false;
  bool draining_ = false;
  bool parser_paused_ = false;
  bool closed_ = false;
  int read_disabled_for_pipeline_ = 0;
  std::string pending_input_;  // pipelined bytes waiting for the current response
  // Upgrade / CONNECT: after the request headers the client's bytes are
  // opaque; after a 101 (or 2xx to CONNECT) the response's are too.
  bool tunnel_request_ = false;
  bool tunnel_established_ = false;
  bool refuse_connect_ = false;
};

}  // namespace weft::http
