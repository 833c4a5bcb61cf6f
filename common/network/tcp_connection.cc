#include "common/network/tcp_connection.h"

#include <netinet/tcp.h>

#include <atomic>

#include "common/base/assert.h"
#include "common/base/logging.h"

namespace weft::network {

namespace {
std::atomic<uint64_t> next_connection_id{1};

// One read buffer per thread: reads are consumed synchronously by the codecs,
// so connections need no receive buffer of their own (memory per connection
// stays small however many are idle).
constexpr size_t kReadBufferSize = 64 * 1024;
thread_local char read_buffer[kReadBufferSize];

void freeHandle(uv_handle_t* handle) { delete reinterpret_cast<uv_tcp_t*>(handle); }
}  // namespace

TcpConnection::TcpConnection(event::Dispatcher& dispatcher)
    : dispatcher_(dispatcher), handle_(new uv_tcp_t), id_(next_connection_id++) {
  uv_tcp_init(dispatcher.loop(), handle_);
  handle_->data = this;
}

TcpConnection::TcpConnection(event::Dispatcher& dispatcher, uv_tcp_t* accepted)
    : dispatcher_(dispatcher), handle_(accepted), id_(next_connection_id++) {
  handle_->data = this;
  uv_tcp_nodelay(handle_, 1);
  readAddresses();
}

std::unique_ptr<TcpConnection> TcpConnection::connectTo(event::Dispatcher& dispatcher,
                                                        const Address& remote) {
  std::unique_ptr<TcpConnection> conn(new TcpConnection(dispatcher));
  conn->state_ = State::kConnecting;
  conn->client_ = true;
  conn->remote_ = remote;
  auto* req = new uv_connect_t;
  req->data = conn.get();
  int rc = uv_tcp_connect(req, conn->handle_, remote.sockAddr(), &TcpConnection::onConnect);
  if (rc != 0) {
    delete req;
    // Reported from the deferred callback, so callers see one code path.
    conn->connect_failed_early_ = true;
    conn->flush_scheduled_ = true;
    dispatcher.deferOnce(conn.get());
  }
  return conn;
}

TcpConnection::~TcpConnection() {
  dispatcher_.cancelDeferred(this);
  if (state_ != State::kClosed) {
    callbacks_ = nullptr;
    closeNow(ConnectionEvent::kLocalClose);
  }
}

void TcpConnection::readAddresses() {
  sockaddr_storage ss;
  int len = sizeof(ss);
  if (uv_tcp_getpeername(handle_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    remote_ = Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
  }
  len = sizeof(ss);
  if (uv_tcp_getsockname(handle_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    local_ = Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
  }
}

std::optional<Address> TcpConnection::originalDestination() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  int fd = this->fd();
  // Netfilter's NAT lookup: the same option number (80) at SOL_IP for IPv4
  // and SOL_IPV6 for IPv6 (IP6T_SO_ORIGINAL_DST).
  constexpr int kSoOriginalDst = 80;
  int level = local_.family() == AF_INET6 ? SOL_IPV6 : SOL_IP;
  if (fd < 0 || getsockopt(fd, level, kSoOriginalDst, &ss, &len) != 0) return std::nullopt;
  Address original = Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
  if (original == local_) return std::nullopt;  // not redirected
  return original;
}

int TcpConnection::fd() const {
  uv_os_fd_t fd = -1;
  uv_fileno(reinterpret_cast<const uv_handle_t*>(handle_), &fd);
  return fd;
}

void TcpConnection::onConnect(uv_connect_t* req, int status) {
  auto* self = static_cast<TcpConnection*>(req->data);
  delete req;
  if (status == UV_ECANCELED || self == nullptr || self->state_ == State::kClosed) return;
  if (status != 0) {
    LOG_DEBUG("connect to %s failed: %s", self->remote_.toString().c_str(), uv_strerror(status));
    self->closeNow(ConnectionEvent::kConnectFailed);
    return;
  }
  self->state_ = State::kOpen;
  uv_tcp_nodelay(self->handle_, 1);
  self->readAddresses();
  self->startReading();
  if (self->transport_) {
    self->transport_->onConnected();  // kConnected follows the handshake
    return;
  }
  if (self->callbacks_ != nullptr) self->callbacks_->onEvent(ConnectionEvent::kConnected);
  if (!self->out_.empty()) self->flush();
}

void TcpConnection::setTransportSocket(std::unique_ptr<TransportSocket> transport) {
  transport_ = std::move(transport);
  transport_->setCallbacks(this);
}

void TcpConnection::injectReadData(std::string_view data) {
  if (!data.empty() && state_ != State::kClosed) onReadData(data);
}

void TcpConnection::onReadData(std::string_view data) {
  if (transport_) {
    transport_->onRawData(data);
    return;
  }
  if (callbacks_ != nullptr) callbacks_->onData(data, false);
}

void TcpConnection::encryptPending() {
  if (!transport_ || plain_.empty()) return;
  std::string plain;
  plain.swap(plain_);
  encrypting_ = true;
  transport_->write(plain);  // comes back through writeRaw
  encrypting_ = false;
}

void TcpConnection::writeRaw(std::string_view bytes) {
  if (state_ == State::kClosed) return;
  out_.append(bytes);
  updateWatermarks();
  if (!encrypting_ && !flush_scheduled_ && state_ != State::kConnecting) {
    flush_scheduled_ = true;
    dispatcher_.deferOnce(this);
  }
}

bool TcpConnection::deliver(std::string_view plaintext) {
  if (callbacks_ != nullptr) callbacks_->onData(plaintext, false);
  return state_ != State::kClosed;
}

void TcpConnection::onHandshakeComplete() {
  if (callbacks_ != nullptr) {
    if (client_) {
      callbacks_->onEvent(ConnectionEvent::kConnected);
    } else {
      callbacks_->onServerHandshakeComplete();
    }
  }
  // Plaintext written before the handshake (a client's first request).
  if (state_ == State::kOpen && !plain_.empty()) flush();
}

void TcpConnection::onHandshakeFailed() {
  flush();  // best effort: the alert telling the peer why
  closeNow(client_ ? ConnectionEvent::kConnectFailed : ConnectionEvent::kRemoteClose);
}

void TcpConnection::onTransportClosed() {
  if (state_ == State::kClosed) return;
  if (half_close_ && transport_->failureReason().empty() && callbacks_ != nullptr) {
    callbacks_->onData(std::string_view(), true);  // close_notify: the peer's end of stream
    return;
  }
  closeNow(ConnectionEvent::kRemoteClose);
}

void TcpConnection::startReading() {
  if (state_ != State::kOpen || reading_ || read_disable_count_ > 0) return;
  reading_ = true;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(handle_),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        buf->base = read_buffer;
        buf->len = kReadBufferSize;
      },
      &TcpConnection::onRead);
}

void TcpConnection::readDisable(bool disable) {
  if (disable) {
    if (read_disable_count_++ == 0 && reading_) {
      uv_read_stop(reinterpret_cast<uv_stream_t*>(handle_));
      reading_ = false;
    }
  } else {
    WEFT_ASSERT(read_disable_count_ > 0);
    if (--read_disable_count_ == 0) startReading();
  }
}

void TcpConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<TcpConnection*>(stream->data);
  if (self == nullptr || self->state_ == State::kClosed) return;
  if (nread > 0) {
    self->onReadData(std::string_view(buf->base, static_cast<size_t>(nread)));
    return;
  }
  if (nread == 0) return;  // EAGAIN
  if (nread == UV_EOF && self->half_close_) {
    uv_read_stop(stream);
    self->reading_ = false;
    if (self->callbacks_ != nullptr) self->callbacks_->onData(std::string_view(), true);
    return;
  }
  self->closeNow(ConnectionEvent::kRemoteClose);
}

void TcpConnection::write(std::string_view data) {
  if (state_ == State::kClosed || state_ == State::kClosing || shutdown_requested_) return;
  if (transport_) {
    plain_.append(data);  // encrypted at flush time, with whatever else comes
    updateWatermarks();
    if (!flush_scheduled_ && state_ == State::kOpen) {
      flush_scheduled_ = true;
      dispatcher_.deferOnce(this);
    }
    return;
  }
  out_.append(data);
  updateWatermarks();
  if (!flush_scheduled_ && state_ == State::kOpen) {
    flush_scheduled_ = true;
    dispatcher_.deferOnce(this);
  }
}

void TcpConnection::runDeferred() {
  flush_scheduled_ = false;
  if (connect_failed_early_) {
    closeNow(ConnectionEvent::kConnectFailed);
    return;
  }
  flush();
}

void TcpConnection::flush() {
  if (state_ == State::kConnecting || state_ == State::kClosed) return;
  encryptPending();
  if (inflight_ != nullptr) return;
  if (out_.empty()) {
    if (shutdown_requested_ && !shutdown_sent_) {
      shutdown_sent_ = true;
      auto* req = new uv_shutdown_t;
      uv_shutdown(req, reinterpret_cast<uv_stream_t*>(handle_),
                  [](uv_shutdown_t* r, int) { delete r; });
    }
    if (close_after_flush_) closeNow(ConnectionEvent::kLocalClose);
    return;
  }
  // Write synchronously first: a write the kernel takes whole needs no
  // request, no completion callback and no epoll change (libuv's uv_write
  // costs an epoll_ctl per call; this path costs only the write).
  uv_buf_t direct = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
  int written = uv_try_write(reinterpret_cast<uv_stream_t*>(handle_), &direct, 1);
  if (written == static_cast<int>(out_.size())) {
    out_.clear();
    updateWatermarks();
    if (state_ != State::kClosed) flush();  // shutdown / close-after-flush
    return;
  }
  if (written < 0 && written != UV_EAGAIN) {
    closeNow(ConnectionEvent::kRemoteClose);
    return;
  }
  if (written > 0) out_.erase(0, static_cast<size_t>(written));
  inflight_ = new WriteRequest;
  inflight_->owner = this;
  inflight_->data.swap(out_);
  inflight_->req.data = inflight_;
  uv_buf_t buf = uv_buf_init(inflight_->data.data(), static_cast<unsigned>(inflight_->data.size()));
  int rc = uv_write(&inflight_->req, reinterpret_cast<uv_stream_t*>(handle_), &buf, 1,
                    &TcpConnection::onWrite);
  if (rc != 0) {
    delete inflight_;
    inflight_ = nullptr;
    closeNow(ConnectionEvent::kRemoteClose);
  }
}

void TcpConnection::onWrite(uv_write_t* req, int status) {
  auto* request = static_cast<WriteRequest*>(req->data);
  TcpConnection* self = request->owner;
  delete request;
  if (self == nullptr) return;
  self->inflight_ = nullptr;
  if (status != 0) {
    if (self->state_ != State::kClosed) self->closeNow(ConnectionEvent::kRemoteClose);
    return;
  }
  self->updateWatermarks();
  self->flush();
}

void TcpConnection::updateWatermarks() {
  size_t buffered = bufferedBytes();
  if (!above_high_watermark_ && buffered > high_watermark_) {
    above_high_watermark_ = true;
    if (callbacks_ != nullptr) callbacks_->onAboveWriteBufferHighWatermark();
  } else if (above_high_watermark_ && buffered < high_watermark_ / 2) {
    above_high_watermark_ = false;
    if (callbacks_ != nullptr) callbacks_->onBelowWriteBufferLowWatermark();
  }
}

void TcpConnection::shutdownWrite() {
  if (shutdown_requested_ || !isOpen()) return;
  if (transport_) {
    encryptPending();  // what was written goes before close_notify
    transport_->shutdown();
  }
  shutdown_requested_ = true;
  if (!flush_scheduled_ && state_ == State::kOpen) {
    flush_scheduled_ = true;
    dispatcher_.deferOnce(this);
  }
}

void TcpConnection::close(CloseType type) {
  if (state_ == State::kClosed) return;
  if (type == CloseType::kFlushWrite && state_ == State::kOpen && transport_) {
    encryptPending();
    transport_->shutdown();  // close_notify, so the peer sees an orderly end
  }
  if (type == CloseType::kFlushWrite && state_ == State::kOpen && bufferedBytes() > 0) {
    close_after_flush_ = true;
    state_ = State::kClosing;
    if (reading_) {
      uv_read_stop(reinterpret_cast<uv_stream_t*>(handle_));
      reading_ = false;
    }
    if (inflight_ == nullptr && !flush_scheduled_) {
      flush_scheduled_ = true;
      dispatcher_.deferOnce(this);
    }
    return;
  }
  closeNow(ConnectionEvent::kLocalClose);
}

void TcpConnection::closeNow(ConnectionEvent event) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  dispatcher_.cancelDeferred(this);
  flush_scheduled_ = false;
  handle_->data = nullptr;
  if (inflight_ != nullptr) {
    // uv_close cancels the write; its callback must not touch this object.
    inflight_->owner = nullptr;
    inflight_ = nullptr;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(handle_), &freeHandle);
  auto* callbacks = callbacks_;
  if (callbacks != nullptr) callbacks->onEvent(event);
}

ClientConnectionFactory& tcpClientConnectionFactory() {
  class TcpFactory : public ClientConnectionFactory {
   public:
    std::unique_ptr<Connection> connect(event::Dispatcher& dispatcher,
                                        const Address& remote) override {
      return TcpConnection::connectTo(dispatcher, remote);
    }
  };
  static TcpFactory factory;
  return factory;
}

}  // namespace weft::network
