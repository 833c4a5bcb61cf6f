// HTTP/2 with prior knowledge (h2c), nghttp2's client session: request i is a
// new stream on connection i % n the moment it is due, however many are
// still open there (as gRPC and h2load send), so a slow response delays
// nothing but itself. Windows are opened wide: the proxy's flow control, not
// ours, is what is measured.

#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "tools/openloop/openloop.h"

namespace weft::openloop {

namespace {

struct Conn {
  int fd = -1;
  nghttp2_session* session = nullptr;
  std::string out;  // bytes nghttp2 produced that the socket has not taken yet
  std::map<int32_t, Clock::time_point> due;  // open stream -> when it was due
  std::map<int32_t, bool> ok;                // :status 200 seen
  Schedule* schedule = nullptr;
};

int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
             const uint8_t* value, size_t valuelen, uint8_t, void* user) {
  auto* c = static_cast<Conn*>(user);
  if (frame->hd.type == NGHTTP2_HEADERS &&
      std::string_view((const char*)name, namelen) == ":status") {
    c->ok[frame->hd.stream_id] = std::string_view((const char*)value, valuelen) == "200";
  }
  return 0;
}

int onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user) {
  auto* c = static_cast<Conn*>(user);
  auto it = c->due.find(stream_id);
  if (it == c->due.end()) return 0;
  c->schedule->record(it->second, Clock::now());
  if (error_code != 0 || !c->ok[stream_id]) ++c->schedule->errors;
  c->due.erase(it);
  c->ok.erase(stream_id);
  return 0;
}

// Hands nghttp2's pending output to the socket; false on a dead connection.
bool flush(Conn& c) {
  const uint8_t* data;
  ssize_t len;
  while ((len = nghttp2_session_mem_send(c.session, &data)) > 0) {
    c.out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
  }
  while (!c.out.empty()) {
    ssize_t w = write(c.fd, c.out.data(), c.out.size());
    if (w < 0) return errno == EAGAIN;
    c.out.erase(0, static_cast<size_t>(w));
  }
  return true;
}

}  // namespace

int runHttp2(const Options& o) {
  Schedule s(o);
  s.latencies_ms.reserve(s.total + 16);
  nghttp2_session_callbacks* callbacks;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose);
  std::vector<int> fds = connectAll(o);
  std::vector<Conn> conns(fds.size());
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i] < 0) return 1;
    Conn& c = conns[i];
    c.fd = fds[i];
    c.schedule = &s;
    nghttp2_session_client_new(&c.session, callbacks, &c);
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 10000},
                                         {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 24}};
    nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, settings, 2);
    nghttp2_session_set_local_window_size(c.session, NGHTTP2_FLAG_NONE, 0, 1 << 30);
    if (!flush(c)) return 1;
  }
  nghttp2_session_callbacks_del(callbacks);
  const std::string authority = o.host + ":" + std::to_string(o.port);
  auto nv = [](const char* name, const std::string& value) {
    return nghttp2_nv{(uint8_t*)name, (uint8_t*)value.data(), strlen(name), value.size(),
                      NGHTTP2_NV_FLAG_NO_COPY_NAME};
  };
  const std::string get = "GET", scheme = "http", path = "/", agent = "openloop";
  const std::vector<nghttp2_nv> headers = {nv(":method", get), nv(":scheme", scheme),
                                           nv(":authority", authority), nv(":path", path),
                                           nv("user-agent", agent)};
  const int n = static_cast<int>(conns.size());
  std::vector<pollfd> pfds(n);
  const auto deadline = s.due(s.total) + std::chrono::seconds(10);  // drain what is open
  while (true) {
    auto now = Clock::now();
    while (s.sent < s.total && s.due(s.sent) <= now) {
      Conn& c = conns[s.sent % n];
      int32_t id = nghttp2_submit_request(c.session, nullptr, headers.data(), headers.size(),
                                          nullptr, nullptr);
      if (id < 0) {
        ++s.errors;
      } else {
        c.due[id] = s.due(s.sent);
      }
      ++s.sent;
      if (!flush(c)) {
        std::fprintf(stderr, "openloop: connection %d failed\n", int(s.sent % n));
        return 1;
      }
    }
    bool pending = false;
    for (auto& c : conns) pending |= !c.due.empty();
    if ((s.sent >= s.total && !pending) || now > deadline) break;
    timespec timeout = s.pollTimeout(now);
    for (int i = 0; i < n; ++i) {
      pfds[i] = {conns[i].fd, static_cast<short>(POLLIN | (conns[i].out.empty() ? 0 : POLLOUT)), 0};
    }
    if (ppoll(pfds.data(), static_cast<nfds_t>(n), &timeout, nullptr) <= 0) continue;
    for (int i = 0; i < n; ++i) {
      Conn& c = conns[i];
      if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        uint8_t buf[65536];
        ssize_t r = read(c.fd, buf, sizeof(buf));
        if (r <= 0 || nghttp2_session_mem_recv(c.session, buf, static_cast<size_t>(r)) < 0) {
          std::fprintf(stderr, "openloop: connection %d closed\n", i);
          return 1;
        }
      }
      if (!flush(c)) {
        std::fprintf(stderr, "openloop: connection %d failed\n", i);
        return 1;
      }
    }
  }
  report(s);
  for (auto& c : conns) {
    nghttp2_session_del(c.session);
    close(c.fd);
  }
  return 0;
}

}  // namespace weft::openloop
