#pragma once

// A TCP connection on one dispatcher: batched writes (one syscall per loop
// iteration however many writes were queued), read back-pressure through
// readDisable(), and write-buffer watermarks to push back on the peer.

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
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
  virtual void onAboveWriteBufferHighWatermark() {}
  virtual void onBelowWriteBufferLowWatermark() {}
};

class Connection : public ByteStream, public event::DeferredWork, private TransportSocketCallbacks {
 public:
  // Wraps an accepted socket (already initialised on `dispatcher`'s loop).
  Connection(event::Dispatcher& dispatcher, uv_tcp_t* accepted);
  // Starts a connect to `remote`; kConnected or kConnectFailed follows.
  static std::unique_ptr<Connection> connectTo(event::Dispatcher& dispatcher,
                                               const Address& remote);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void setCallbacks(ConnectionCallbacks* callbacks) { callbacks_ = callbacks; }
  // TLS (or another transport) between the socket and the owner. Set before
  // the first byte is read; a client connection then reports kConnected only
  // once the handshake is done, and a failed handshake as kConnectFailed.
  void setTransportSocket(std::unique_ptr<TransportSocket> transport);
  // The handshake's result; nullptr for a plaintext connection.
  const TransportInfo* transportInfo() const {
    return transport_ && transport_->handshakeComplete() ? &transport_->info() : nullptr;
  }
  // Bytes read from the socket before the owner existed (an inspector's):
  // processed as if they had just arrived.
  void injectReadData(std::string_view data);
  void enableHalfClose(bool enabled) override { half_close_ = enabled; }
  void setBufferLimit(uint32_t bytes) { high_watermark_ = bytes; }

  // Starts reading (accepted connections start paused so the owner can set
  // callbacks first).
  void startReading();
  // Nested: each disable needs a matching enable.
  void readDisable(bool disable) override;

  void write(std::string_view data) override;
  void shutdownWrite() override;
  void close(CloseType type) override;

  bool isOpen() const { return state_ == State::kOpen || state_ == State::kConnecting; }
  bool connected() const { return state_ == State::kOpen; }
  bool closed() const { return state_ == State::kClosed; }
  size_t bufferedBytes() const {
    return out_.size() + plain_.size() + (inflight_ ? inflight_->data.size() : 0) +
           (transport_ ? transport_->pendingBytes() : 0);
  }
  const Address& remoteAddress() const { return remote_; }
  const Address& localAddress() const { return local_; }
  uint64_t id() const { return id_; }
  event::Dispatcher& dispatcher() override { return dispatcher_; }

  // Returns the raw fd (for SO_ORIGINAL_DST and socket options).
  int fd() const;
  // Where the client meant to connect before a REDIRECT rule sent it here
  // (SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST); nullopt when not redirected.
  std::optional<Address> originalDestination() const;
  // Transparent interception: from now on localAddress() is the original
  // destination (filter chain matching, ORIGINAL_DST clusters see it).
  void restoreLocalAddress(const Address& address) {
    local_ = address;
    redirected_ = true;
  }
  bool redirected() const { return redirected_; }

  void runDeferred() override;

 private:
  enum class State { kConnecting, kOpen, kClosing, kClosed };

  explicit Connection(event::Dispatcher& dispatcher);
  static void onConnect(uv_connect_t* req, int status);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onWrite(uv_write_t* req, int status);
  void flush();
  void closeNow(ConnectionEvent event);
  void onReadData(std::string_view data);
  void encryptPending();

  // TransportSocketCallbacks
  void writeRaw(std::string_view bytes) override;
  bool deliver(std::string_view plaintext) override;
  void onHandshakeComplete() override;
  void onHandshakeFailed() override;
  void onTransportClosed() override;
  void updateWatermarks();
  void readAddresses();

  event::Dispatcher& dispatcher_;
  uv_tcp_t* handle_;
  bool redirected_ = false;
  ConnectionCallbacks* callbacks_ = nullptr;
  std::unique_ptr<TransportSocket> transport_;
  State state_ = State::kOpen;
  bool client_ = false;  // made by connectTo
  Address remote_;
  Address local_;
  uint64_t id_;
  std::string out_;  // queued, not yet handed to the kernel
  // With a transport: plaintext written during this loop iteration, encrypted
  // in one go at flush time (one TLS record per flush, not per write).
  std::string plain_;
  bool encrypting_ = false;
  // Handed to uv_write, waiting for completion. Heap-allocated: a write the
  // kernel has not finished outlives a connection destroyed meanwhile.
  struct WriteRequest {
    uv_write_t req;
    std::string data;
    Connection* owner;
  };
  WriteRequest* inflight_ = nullptr;
  bool connect_failed_early_ = false;
  bool flush_scheduled_ = false;
  bool shutdown_requested_ = false;
  bool shutdown_sent_ = false;
  bool close_after_flush_ = false;
  bool half_close_ = false;
  bool reading_ = false;
  bool above_high_watermark_ = false;
  int read_disable_count_ = 0;
  uint32_t high_watermark_ = 1024 * 1024;
};

}  // namespace weft::network
