// openloop HOST PORT RATE SECONDS [CONNECTIONS]
//
// Sends GET / at a fixed RATE (requests/s) for SECONDS over CONNECTIONS
// keep-alive connections (default 32), one request at a time per connection.
// Request i is due at start + i/RATE whatever happened before (open loop): a
// slow response delays the requests queued behind it, and their latency counts
// from when they were due, not from when they could be sent (no coordinated
// omission, unlike wrk). Prints: sent, completed, errors, p50/p90/p99/max ms.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t, Clock::time_point now) {
  return std::chrono::duration<double, std::milli>(now - t).count();
}

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

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: openloop HOST PORT RATE SECONDS [CONNECTIONS]\n");
    return 2;
  }
  const char* host = argv[1];
  int port = std::atoi(argv[2]);
  double rate = std::atof(argv[3]);
  double seconds = std::atof(argv[4]);
  int n = argc > 5 ? std::atoi(argv[5]) : 32;
  const std::string request =
      std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\nUser-Agent: openloop\r\n\r\n";

  std::vector<Conn> conns(n);
  for (auto& c : conns) {
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, host, &addr.sin_addr);
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      std::perror("connect");
      return 1;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(c.fd, F_SETFL, O_NONBLOCK);
  }

  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(rate * seconds) + 16);
  uint64_t sent = 0, errors = 0;
  const uint64_t total = static_cast<uint64_t>(rate * seconds);
  const auto start = Clock::now();
  auto due = [&](uint64_t i) {
    return start + std::chrono::nanoseconds(static_cast<int64_t>(i * 1e9 / rate));
  };
  auto send = [&](Conn& c) {
    if (c.in_flight || c.due.empty()) return;
    if (write(c.fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      ++errors;
      c.due.pop_front();
      return;
    }
    c.in_flight = true;
  };
  std::vector<pollfd> fds(n);
  const auto deadline = due(total) + std::chrono::seconds(10);  // drain what is queued
  while (true) {
    auto now = Clock::now();
    while (sent < total && due(sent) <= now) {
      Conn& c = conns[sent % n];
      c.due.push_back(due(sent));
      ++sent;
      send(c);
    }
    bool pending = false;
    for (auto& c : conns) pending |= !c.due.empty();
    if (sent >= total && !pending) break;
    if (now > deadline) break;
    // Wake exactly when the next request is due (ppoll: nanoseconds, not
    // poll's milliseconds, which would add up to 1 ms of our own lateness).
    int64_t wait_ns = 100000000;
    if (sent < total) {
      wait_ns = std::min<int64_t>(
          wait_ns,
          std::max<int64_t>(
              0, std::chrono::duration_cast<std::chrono::nanoseconds>(due(sent) - now).count()));
    }
    timespec timeout{static_cast<time_t>(wait_ns / 1000000000),
                     static_cast<long>(wait_ns % 1000000000)};
    for (int i = 0; i < n; ++i) fds[i] = {conns[i].fd, POLLIN, 0};
    if (ppoll(fds.data(), static_cast<nfds_t>(n), &timeout, nullptr) <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
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
        auto done = Clock::now();
        if (!c.due.empty()) {
          latencies.push_back(msSince(c.due.front(), done));
          c.due.pop_front();
        }
        if (!ok) ++errors;
        c.in_flight = false;
        send(c);
      }
    }
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double q) {
    if (latencies.empty()) return 0.0;
    return latencies[std::min(latencies.size() - 1, static_cast<size_t>(q * latencies.size()))];
  };
  std::printf("sent %llu completed %zu errors %llu p50 %.3f p90 %.3f p99 %.3f max %.3f ms\n",
              static_cast<unsigned long long>(sent), latencies.size(),
              static_cast<unsigned long long>(errors), pct(0.5), pct(0.9), pct(0.99),
              latencies.empty() ? 0.0 : latencies.back());
  for (auto& c : conns) close(c.fd);
  return 0;
}
