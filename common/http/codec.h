#pragma once

// Protocol-neutral stream interfaces between the codecs (HTTP/1 on
// http_parser, HTTP/2 on nghttp2) and the connection manager / router, after
// Envoy's StreamEncoder / StreamDecoder split. A "decoder" receives one
// message; an "encoder" sends one.

#include <string_view>

#include "common/http/header_map.h"

namespace weft::http {

enum class StreamResetReason {
  kConnectionFailure,      // upstream connect failed
  kConnectionTermination,  // the connection closed under the stream
  kLocalReset,
  kRemoteReset,
  kProtocolError,
};

const char* resetReasonName(StreamResetReason reason);

class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  virtual void decodeHeaders(HeaderMap&& headers, bool end_stream) = 0;
  virtual void decodeData(std::string_view data, bool end_stream) = 0;
  // Trailers end the stream.
  virtual void decodeTrailers(HeaderMap&& trailers) = 0;
  virtual void onResetStream(StreamResetReason reason) = 0;
  // The connection this stream's encoder writes to is congested / drained.
  virtual void onAboveWriteBufferHighWatermark() {}
  virtual void onBelowWriteBufferLowWatermark() {}
};

class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  virtual void encodeHeaders(const HeaderMap& headers, bool end_stream) = 0;
  virtual void encodeData(std::string_view data, bool end_stream) = 0;
  virtual void encodeTrailers(const HeaderMap& trailers) = 0;
  // Aborts the stream; the decoder paired with this encoder gets no more calls.
  virtual void resetStream(StreamResetReason reason) = 0;
  // Pauses / resumes delivery of the other direction of this stream (nested).
  virtual void readDisable(bool disable) = 0;
  // `decoder` is going away: if it still receives this stream, the codec
  // delivers it nothing more. Whatever of the other direction is still
  // arriving is discarded: HTTP/2 resets the stream (RST_STREAM NO_ERROR
  // once this side's END_STREAM has gone, RFC 9113 §8.1), HTTP/1 does not
  // reuse the connection. Called by every decoder before it dies, so no
  // frame that arrives later can reach freed memory.
  virtual void releaseDecoder(StreamDecoder& decoder) = 0;
};

// Server side: one per downstream connection.
class ServerConnectionCallbacks {
 public:
  virtual ~ServerConnectionCallbacks() = default;
  // A new request stream; the returned decoder receives it.
  virtual StreamDecoder& newStream(StreamEncoder& response_encoder) = 0;
};

class ServerConnection {
 public:
  virtual ~ServerConnection() = default;
  virtual void dispatch(std::string_view data) = 0;
  // Peer closed its side.
  virtual void onRemoteEof() = 0;
  // Start draining: HTTP/1 adds `connection: close` to the next response,
  // HTTP/2 sends a GOAWAY announcing the end (last stream 2^31-1: requests
  // already on the wire are still served).
  virtual void shutdownNotice() = 0;
  // HTTP/2's final GOAWAY (the last stream processed); the connection then
  // closes once its streams are done. RFC 9113 §6.8: send it a round trip or
  // more after the notice, so no request the client sent meanwhile is lost.
  virtual void goAway() {}
  // True when shutdownNotice() needs a later goAway().
  virtual bool graceful() const { return false; }
  virtual size_t activeStreams() const = 0;
  virtual void onAboveWriteBufferHighWatermark() = 0;
  virtual void onBelowWriteBufferLowWatermark() = 0;
  // A request began arriving but its headers never completed in time: HTTP/1
  // answers 408 and closes, HTTP/2 sends GOAWAY and closes.
  virtual void abortIncompleteRequest() = 0;
};

// What a client connection (either codec) tells the pool that owns it.
class ClientConnectionCallbacks {
 public:
  virtual ~ClientConnectionCallbacks() = default;
  // A stream finished (response complete); the connection may be reused.
  virtual void onStreamComplete() = 0;
  // The peer broke the protocol; the owner closes the connection.
  virtual void onProtocolError() = 0;
};

// Client side: one per upstream connection.
class ClientConnection {
 public:
  virtual ~ClientConnection() = default;
  virtual StreamEncoder& newStream(StreamDecoder& response_decoder) = 0;
  virtual void dispatch(std::string_view data) = 0;
  virtual void onRemoteEof() = 0;
  virtual size_t activeStreams() const = 0;
  // True when the connection can carry another stream now.
  virtual bool available() const = 0;
  // True once the peer said it will close (connection: close, GOAWAY).
  virtual bool goingAway() const = 0;
  virtual void onAboveWriteBufferHighWatermark() = 0;
  virtual void onBelowWriteBufferLowWatermark() = 0;
  // The connection closed: reset every active stream.
  virtual void onConnectionClosed(StreamResetReason reason) = 0;
};

}  // namespace weft::http
