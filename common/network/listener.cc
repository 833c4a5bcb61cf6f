#include "common/network/listener.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/base/logging.h"
#include "common/network/tcp_connection.h"

namespace weft::network {

int bindListeningSocket(const Address& address, bool reuse_port, std::string* error) {
  int fd = socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket(): ") + std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (bind(fd, address.sockAddr(), address.length()) != 0) {
    *error = "cannot bind " + address.toString() + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (listen(fd, 1024) != 0) {
    *error = "cannot listen on " + address.toString() + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

Listener::Listener(event::Dispatcher& dispatcher, int fd, AcceptCallback on_accept)
    : dispatcher_(dispatcher), handle_(new uv_tcp_t), on_accept_(std::move(on_accept)) {
  uv_tcp_init(dispatcher.loop(), handle_);
  handle_->data = this;
  if (uv_tcp_open(handle_, fd) != 0) {
    ::close(fd);
    return;
  }
  int rc = uv_listen(reinterpret_cast<uv_stream_t*>(handle_), 1024, &Listener::onConnection);
  if (rc != 0) {
    LOG_ERROR("uv_listen: %s", uv_strerror(rc));
    return;
  }
  ok_ = true;
}

Listener::~Listener() {
  handle_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
}

void Listener::onConnection(uv_stream_t* server, int status) {
  auto* self = static_cast<Listener*>(server->data);
  if (self == nullptr || status != 0) return;
  auto* client = new uv_tcp_t;
  uv_tcp_init(self->dispatcher_.loop(), client);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(client)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(client),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    return;
  }
  self->on_accept_(std::make_unique<TcpConnection>(self->dispatcher_, client));
}

}  // namespace weft::network
