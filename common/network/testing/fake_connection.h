#pragma once

// In-memory connections for unit tests of what sits on a connection (pools,
// codecs' owners, proxies): the test decides when a connect succeeds or fails
// and what the peer sends, and reads what the owner wrote. Closing behaves as
// TcpConnection's does: the owner's callbacks see kLocalClose at once.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/network/connection.h"

namespace weft::network::testing {

class FakeConnection : public Connection {
 public:
  FakeConnection(event::Dispatcher& dispatcher, Address remote, bool connecting)
      : dispatcher_(dispatcher), remote_(std::move(remote)), connecting_(connecting) {}
  // What the test plays as the network.
  void raiseConnected() {
    connecting_ = false;
    if (callbacks_ != nullptr) callbacks_->onEvent(ConnectionEvent::kConnected);
  }
  void raiseConnectFailed() { closeWith(ConnectionEvent::kConnectFailed); }
  void raiseRemoteClose() { closeWith(ConnectionEvent::kRemoteClose); }
  void deliver(std::string_view data) {
    if (callbacks_ != nullptr) callbacks_->onData(data, false);
  }
  // Everything the owner wrote so far; cleared by takeWritten().
  std::string takeWritten() { return std::exchange(written_, {}); }
  bool hasCallbacks() const { return callbacks_ != nullptr; }

  // Connection
  void setCallbacks(ConnectionCallbacks* callbacks) override { callbacks_ = callbacks; }
  void setTransportSocket(std::unique_ptr<TransportSocket> transport) override {
    transport_ = std::move(transport);
  }
  const TransportInfo* transportInfo() const override { return nullptr; }
  void injectReadData(std::string_view data) override { deliver(data); }
  void setBufferLimit(uint32_t) override {}
  void startReading() override {}
  bool isOpen() const override { return !closed_; }
  bool connected() const override { return !closed_ && !connecting_; }
  bool closed() const override { return closed_; }
  size_t bufferedBytes() const override { return 0; }
  const Address& remoteAddress() const override { return remote_; }
  const Address& localAddress() const override { return local_; }
  uint64_t id() const override { return 0; }
  std::optional<Address> originalDestination() const override { return std::nullopt; }
  void restoreLocalAddress(const Address& address) override { local_ = address; }
  bool redirected() const override { return false; }
  bool hasTransportSocket() const { return transport_ != nullptr; }

  // ByteStream
  void write(std::string_view data) override { written_.append(data); }
  void close(CloseType) override { closeWith(ConnectionEvent::kLocalClose); }
  void readDisable(bool) override {}
  void enableHalfClose(bool) override {}
  void shutdownWrite() override {}
  event::Dispatcher& dispatcher() override { return dispatcher_; }

 private:
  void closeWith(ConnectionEvent event) {
    if (closed_) return;
    closed_ = true;
    if (callbacks_ != nullptr) callbacks_->onEvent(event);
  }

  event::Dispatcher& dispatcher_;
  Address remote_;
  Address local_;
  ConnectionCallbacks* callbacks_ = nullptr;
  std::unique_ptr<TransportSocket> transport_;
  std::string written_;
  bool connecting_;
  bool closed_ = false;
};

// Hands out FakeConnections and keeps a pointer to each for the test. The
// pointers are valid until the owner destroys the connection: tests look at
// `opened` only while the pool holds them, or check `alive()` first.
class FakeConnectionFactory : public ClientConnectionFactory {
 public:
  std::unique_ptr<Connection> connect(event::Dispatcher& dispatcher,
                                      const Address& remote) override {
    auto connection = std::make_unique<FakeConnection>(dispatcher, remote, /*connecting=*/true);
    opened.push_back(connection.get());
    return connection;
  }
  std::vector<FakeConnection*> opened;
};

}  // namespace weft::network::testing
