// HTTP/1.1: keep-alive connections, one request at a time on each (request
// i goes to connection i % n and waits there behind the ones before it).

#include <poll.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include "tools/openloop/openloop.h"

namespace weft::openloop {

namespace {

struct Conn {
  int fd = -1;
  std::deque<Clock::time_point> due;  // requests assigned, oldest first
  bool in_flight = false;
  std::string in;
};

// Bytes of the first complete response at the front of `in`, or 0.
size_t responseLength(const std::string& in) {
  size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  std::string head = in.substr(0, end);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t cl = head.find("content-length:");
  size_t body = cl == std::string::npos ? 0 : std::strtoul(head.c_str() + cl + 15, nullptr, 10);
  return in.size() >= end + 4 + body ? end + 4 + body : 0;
}

}  // namespace

int runHttp1(const Options& o) {
  const std::string request =
      "GET / HTTP/1.1\r\nHost: " + o.host + "\r\nUser-Agent: openloop\r\n\r\n";
  std::vector<int> fds = connectAll(o);
  std::vector<Conn> conns(fds.size());
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i] < 0) return 1;
    conns[i].fd = fds[i];
  }
  const int n = static_cast<int>(conns.size());
  Schedule s(o);
  s.latencies_ms.reserve(s.total + 16);
  auto send = [&](Conn& c) {
    if (c.in_flight || c.due.empty()) return;
    if (write(c.fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      ++s.errors;
      c.due.pop_front();
      return;
    }
    c.in_flight = true;
  };
  std::vector<pollfd> pfds(n);
  const auto deadline = s.due(s.total) + std::chrono::seconds(10);  // drain what is queued
  while (true) {
    auto now = Clock::now();
    while (s.sent < s.total && s.due(s.sent) <= now) {
      Conn& c = conns[s.sent % n];
      c.due.push_back(s.due(s.sent));
      ++s.sent;
      send(c);
    }
    bool pending = false;
    for (auto& c : conns) pending |= !c.due.empty();
    if ((s.sent >= s.total && !pending) || now > deadline) break;
    timespec timeout = s.pollTimeout(now);
    for (int i = 0; i < n; ++i) pfds[i] = {conns[i].fd, POLLIN, 0};
    if (ppoll(pfds.data(), static_cast<nfds_t>(n), &timeout, nullptr) <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Conn& c = conns[i];
      char buf[65536];
      ssize_t r = read(c.fd, buf, sizeof(buf));
      if (r <= 0) {
        std::fprintf(stderr, "openloop: connection %d closed\n", i);
        return 1;
      }
      c.in.append(buf, static_cast<size_t>(r));
      while (size_t len = responseLength(c.in)) {
        bool ok = c.in.compare(0, 12, "HTTP/1.1 200") == 0;
        c.in.erase(0, len);
        if (!c.due.empty()) {
          s.record(c.due.front(), Clock::now());
          c.due.pop_front();
        }
        if (!ok) ++s.errors;
        c.in_flight = false;
        send(c);
      }
    }
  }
  report(s);
  for (auto& c : conns) close(c.fd);
  return 0;
}

}  // namespace weft::openloop
