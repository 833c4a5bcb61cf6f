#pragma once

// HTTP/1.1 client codec over http_parser: one request at a time on a
// keep-alive connection owned by the connection pool.

#include <http_parser.h>

#include <string>

#include "common/http/codec.h"
#include "common/http/http1_common.h"
#include "common/network/byte_stream.h"

namespace weft::http {

class Http1ClientConnection : public ClientConnection, public StreamEncoder {
 public:
  Http1ClientConnection(network::ByteStream& connection, ClientConnectionCallbacks& callbacks);

  // ClientConnection
  StreamEncoder& newStream(StreamDecoder& response_decoder) override;
  void dispatch(std::string_view data) override;
  void onRemoteEof() override;
  size_t activeStreams() const override { return decoder_ != nullptr ? 1 : 0; }
  bool available() const override { return decoder_ == nullptr && !going_away_; }
  bool goingAway() const override { return going_away_; }
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;
  void onConnectionClosed(StreamResetReason reason) override;

  // StreamEncoder (the request)
  void encodeHeaders(const HeaderMap& headers, bool end_stream) override;
  void encodeData(std::string_view data, bool end_stream) override;
  void encodeTrailers(const HeaderMap& trailers) override;
  void resetStream(StreamResetReason reason) override;
  void readDisable(bool disable) override;
  void releaseDecoder(StreamDecoder& decoder) override;

 private:
  static int onHeaderField(http_parser* p, const char* at, size_t len);
  static int onHeaderValue(http_parser* p, const char* at, size_t len);
  static int onHeadersComplete(http_parser* p);
  static int onBody(http_parser* p, const char* at, size_t len);
  static int onMessageComplete(http_parser* p);
  static const http_parser_settings kParserSettings;

  network::ByteStream& connection_;
  ClientConnectionCallbacks& callbacks_;
  http_parser parser_;
  http1::HeaderCollector header_collector_;
  StreamDecoder* decoder_ = nullptr;
  bool request_chunked_ = false;
  bool request_complete_ = false;
  bool request_is_head_ = false;
  bool response_end_sent_ = false;
  bool skipping_informational_ = false;
  bool headers_complete_ = false;
  bool going_away_ = false;
  // Upgrade / CONNECT: the request asked for a tunnel; tunnel_ once the
  // upstream accepted (101, or 2xx to CONNECT) and bytes flow unframed.
  bool tunnel_request_ = false;
  bool request_is_connect_ = false;
  bool tunnel_ = false;
  std::string upgrade_value_;
};

}  // namespace weft::http
