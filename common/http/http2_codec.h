#pragma once

// HTTP/2 server and client codecs over nghttp2 (h2c with prior knowledge;
// ALPN "h2" once TLS lands). Flow control is real: received DATA is
// acknowledged to the peer (WINDOW_UPDATE) only when the stream is not
// read-disabled, so a slow reader on the other side of the proxy slows this
// peer down instead of growing buffers.

#include <nghttp2/nghttp2.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/http/codec.h"
#include "common/network/byte_stream.h"

namespace weft::http {

// Limits on what a peer may send, enforced as it arrives.
struct Http2Settings {
  // SETTINGS_MAX_HEADER_LIST_SIZE, as RFC 9113 §6.5.2 counts it (name +
  // value + 32 per field): a header block that decodes to more is refused
  // however small it was on the wire (HPACK can expand 16 KB to 64 MB).
  size_t max_header_list_bytes = 60 * 1024;
  uint32_t max_headers_count = 100;  // Envoy's max_headers_count default
  // RFC 8441 extended CONNECT (Envoy's Http2ProtocolOptions.allow_connect).
  // Server: SETTINGS_ENABLE_CONNECT_PROTOCOL is sent, and a CONNECT with
  // :protocol in `upgrade_types` reaches the router as the HTTP/1.1 upgrade it
  // stands for (GET + upgrade: <protocol>), its 101 going back as a 200.
  // Client: a request carrying an upgrade goes out as an extended CONNECT,
  // and its 200 comes back as the 101 an HTTP/1.1 client expects. So a
  // WebSocket crosses an HTTP/2 hop as one stream of the shared connection.
  bool allow_extended_connect = false;
  std::vector<std::string> upgrade_types;  // server: lower case, as HTTP/1's
};

class Http2ConnectionBase {
 public:
  virtual ~Http2ConnectionBase();

 protected:
  class Stream;

  Http2ConnectionBase(network::ByteStream& connection, bool is_server, Http2Settings settings);

  void dispatchData(std::string_view data);
  // Serialises whatever nghttp2 has queued into the connection.
  void sendPending();
  Stream* findStream(int32_t id);
  void onProtocolFailure();

  // Role-specific hooks.
  virtual void onStreamHeadersBegin(int32_t stream_id) = 0;
  // A request's headers are complete (server): who receives the stream.
  virtual StreamDecoder* newDecoder(Stream&) { return nullptr; }
  // The peer's header block broke the limits.
  virtual void onHeadersTooLarge(Stream& stream) = 0;
  // Server: answers `stream` with a bare status; the router never sees it.
  void refuseRequest(Stream& stream, const std::string& status);
  virtual void onStreamClosedHook(Stream& stream) = 0;

  void encodeHeadersOn(Stream& stream, const HeaderMap& headers, bool end_stream, bool request);
  void encodeDataOn(Stream& stream, std::string_view data, bool end_stream);
  void encodeTrailersOn(Stream& stream, const HeaderMap& trailers);
  void resetStreamOn(Stream& stream);
  void readDisableOn(Stream& stream, bool disable);
  void releaseDecoderOn(Stream& stream, StreamDecoder& decoder);
  void notifyWatermark(bool above);
  // After a connection error this side announced with GOAWAY (RFC 9113
  // §5.4.1): every stream is reset and the connection closed once the
  // GOAWAY is flushed.
  void closeAfterConnectionError();

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                      void* user);
  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int onDataChunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user);
  static int onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user);
  static int onFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static ssize_t readData(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source* source, void* user);

  network::ByteStream& connection_;
  Http2Settings settings_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::unique_ptr<Stream>> streams_;
  bool is_server_;
  bool failed_ = false;
  bool goaway_received_ = false;
  bool dispatching_ = false;
  bool connection_error_sent_ = false;  // a GOAWAY with an error code went out
};

class Http2ServerConnection : public Http2ConnectionBase, public ServerConnection {
 public:
  Http2ServerConnection(network::ByteStream& connection, ServerConnectionCallbacks& callbacks,
                        Http2Settings settings = {});
  ~Http2ServerConnection() override;

  void dispatch(std::string_view data) override;
  void onRemoteEof() override;
  void shutdownNotice() override;
  void goAway() override;
  bool graceful() const override { return true; }
  void abortIncompleteRequest() override;
  size_t activeStreams() const override { return streams_.size(); }
  void onAboveWriteBufferHighWatermark() override { notifyWatermark(true); }
  void onBelowWriteBufferLowWatermark() override { notifyWatermark(false); }

 private:
  void onStreamHeadersBegin(int32_t stream_id) override;
  StreamDecoder* newDecoder(Stream& stream) override;
  // A request whose header list broke the limits: 431 from here, the router
  // never sees it (as the HTTP/1 codec does); oversized trailers reset it.
  void onHeadersTooLarge(Stream& stream) override;
  void onStreamClosedHook(Stream& stream) override;

  ServerConnectionCallbacks& callbacks_;
  bool notice_sent_ = false;
  bool goaway_sent_ = false;
};

class Http2ClientConnection : public Http2ConnectionBase, public ClientConnection {
 public:
  Http2ClientConnection(network::ByteStream& connection, ClientConnectionCallbacks& callbacks,
                        Http2Settings settings = {});
  ~Http2ClientConnection() override;

  StreamEncoder& newStream(StreamDecoder& response_decoder) override;
  void dispatch(std::string_view data) override;
  void onRemoteEof() override;
  size_t activeStreams() const override { return streams_.size() + unsubmitted_.size(); }
  bool available() const override;
  bool goingAway() const override { return goaway_received_ || failed_; }
  void onAboveWriteBufferHighWatermark() override { notifyWatermark(true); }
  void onBelowWriteBufferLowWatermark() override { notifyWatermark(false); }
  void onConnectionClosed(StreamResetReason reason) override;

 private:
  friend class Http2ConnectionBase;
  void onStreamHeadersBegin(int32_t) override {}
  // An oversized response: the stream is reset, its request fails.
  void onHeadersTooLarge(Stream& stream) override;
  void onStreamClosedHook(Stream& stream) override;

  ClientConnectionCallbacks& callbacks_;
  // Streams whose request headers are not submitted yet (no id assigned).
  std::map<Stream*, std::unique_ptr<Stream>> unsubmitted_;
};

}  // namespace weft::http
