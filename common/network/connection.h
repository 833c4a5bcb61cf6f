#pragma once

// A connection as its owners (codecs, HTTP connection managers, TCP proxies,
// connection pools) see it: a byte stream with callbacks, an optional
// transport (TLS) and its addresses. TcpConnection is the real one over a
// libuv socket; tests give their own, so a pool or a proxy runs without
// sockets.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "common/event/dispatcher.h"
#include "common/network/address.h"
#include "common/network/byte_stream.h"
#include "common/network/transport_socket.h"

namespace weft::network {

enum class ConnectionEvent { kConnected, kConnectFailed, kRemoteClose, kLocalClose };

class ConnectionCallbacks {
 public:
  virtual ~ConnectionCallbacks() = default;
  // `data` is valid only during the call. `end_stream` is the peer's FIN, seen
  // only when half-close is enabled; otherwise a FIN closes the connection.
  virtual void onData(std::string_view data, bool end_stream) = 0;
  virtual void onEvent(ConnectionEvent event) = 0;
  // A server connection's TLS handshake is done (transportInfo() is set); a
  // client connection reports it as kConnected instead.
  virtual void onServerHandshakeComplete() {}
  virtual void onAboveWriteBufferHighWatermark() {}
  virtual void onBelowWriteBufferLowWatermark() {}
};

class Connection : public ByteStream {
 public:
  ~Connection() override = default;

  virtual void setCallbacks(ConnectionCallbacks* callbacks) = 0;
  // TLS (or another transport) between the socket and the owner. Set before
  // the first byte is read; a client connection then reports kConnected only
  // once the handshake is done, and a failed handshake as kConnectFailed.
  virtual void setTransportSocket(std::unique_ptr<TransportSocket> transport) = 0;
  // The handshake's result; nullptr for a plaintext connection.
  virtual const TransportInfo* transportInfo() const = 0;
  // Bytes read from the socket before the owner existed (an inspector's):
  // processed as if they had just arrived.
  virtual void injectReadData(std::string_view data) = 0;
  // Write-buffer high watermark; above it the owner is told to stop producing.
  virtual void setBufferLimit(uint32_t bytes) = 0;
  // Starts reading (accepted connections start paused so the owner can set
  // callbacks first).
  virtual void startReading() = 0;

  virtual bool isOpen() const = 0;
  virtual bool connected() const = 0;
  virtual bool closed() const = 0;
  // Written by the owner and not yet taken by the kernel.
  virtual size_t bufferedBytes() const = 0;
  virtual const Address& remoteAddress() const = 0;
  virtual const Address& localAddress() const = 0;
  virtual uint64_t id() const = 0;

  // Where the client meant to connect before a REDIRECT rule sent it here
  // (SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST); nullopt when not redirected.
  virtual std::optional<Address> originalDestination() const = 0;
  // Transparent interception: from now on localAddress() is the original
  // destination (filter chain matching, ORIGINAL_DST clusters see it).
  virtual void restoreLocalAddress(const Address& address) = 0;
  virtual bool redirected() const = 0;
};

// Opens client connections: the real one connects TCP sockets; tests give a
// factory of in-memory connections they drive by hand.
class ClientConnectionFactory {
 public:
  virtual ~ClientConnectionFactory() = default;
  // Starts a connect to `remote`; kConnected or kConnectFailed follows.
  virtual std::unique_ptr<Connection> connect(event::Dispatcher& dispatcher,
                                              const Address& remote) = 0;
};

}  // namespace weft::network
