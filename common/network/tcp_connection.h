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
#include "common/network/connection.h"

namespace weft::network {

class TcpConnection final : public Connection,
                            public event::DeferredWork,
                            private TransportSocketCallbacks {
 public:
  // Wraps an accepted socket (already initialised on `dispatcher`'s loop).
  TcpConnection(event::Dispatcher& dispatcher, uv_tcp_t* accepted);
  // Starts a connect to `remote`; kConnected or kConnectFailed follows.
  static std::unique_ptr<TcpConnection> connectTo(event::Dispatcher& dispatcher,
                                                  const Address& remote);
  ~TcpConnection() override;
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  // Connection
  void setCallbacks(ConnectionCallbacks* callbacks) override { callbacks_ = callbacks; }
  void setTransportSocket(std::unique_ptr<TransportSocket> transport) override;
  const TransportInfo* transportInfo() const override {
    return transport_ && transport_->handshakeComplete() ? &transport_->info() : nullptr;
  }
  void injectReadData(std::string_view data) override;
  void enableHalfClose(bool enabled) override { half_close_ = enabled; }
  void setBufferLimit(uint32_t bytes) override { high_watermark_ = bytes; }
  void startReading() override;
  void readDisable(bool disable) override;
  void write(std::string_view data) override;
  void shutdownWrite() override;
  void close(CloseType type) override;
  bool isOpen() const override { return state_ == State::kOpen || state_ == State::kConnecting; }
  bool connected() const override { return state_ == State::kOpen; }
  bool closed() const override { return state_ == State::kClosed; }
  size_t bufferedBytes() const override {
    return out_.size() + plain_.size() + (inflight_ ? inflight_->data.size() : 0) +
           (transport_ ? transport_->pendingBytes() : 0);
  }
  const Address& remoteAddress() const override { return remote_; }
  const Address& localAddress() const override { return local_; }
  uint64_t id() const override { return id_; }
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  std::optional<Address> originalDestination() const override;
  void restoreLocalAddress(const Address& address) override {
    local_ = address;
    redirected_ = true;
  }
  bool redirected() const override { return redirected_; }

  void runDeferred() override;

 private:
  enum class State { kConnecting, kOpen, kClosing, kClosed };

  explicit TcpConnection(event::Dispatcher& dispatcher);
  // The raw fd (for SO_ORIGINAL_DST).
  int fd() const;
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
    TcpConnection* owner;
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

// Connects TCP sockets (TcpConnection::connectTo).
ClientConnectionFactory& tcpClientConnectionFactory();

}  // namespace weft::network
