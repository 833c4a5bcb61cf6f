#include "tools/openloop/openloop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace weft::openloop {

double msSince(Clock::time_point t, Clock::time_point now) {
  return std::chrono::duration<double, std::milli>(now - t).count();
}

timespec Schedule::pollTimeout(Clock::time_point now) const {
  int64_t ns = 100000000;
  if (sent < total) {
    int64_t until = std::chrono::duration_cast<std::chrono::nanoseconds>(due(sent) - now).count();
    ns = std::min<int64_t>(ns, std::max<int64_t>(0, until));
  }
  return {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

void report(Schedule& s) {
  if (const char* path = std::getenv("OPENLOOP_TRACE")) {
    if (FILE* f = std::fopen(path, "w")) {
      for (const auto& [at, ms] : s.trace) std::fprintf(f, "%.3f %.3f\n", at, ms);
      std::fclose(f);
    }
  }
  auto& l = s.latencies_ms;
  std::sort(l.begin(), l.end());
  auto pct = [&](double q) {
    if (l.empty()) return 0.0;
    return l[std::min(l.size() - 1, static_cast<size_t>(q * static_cast<double>(l.size())))];
  };
  std::printf(
      "sent %llu completed %zu errors %llu p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f max %.3f ms\n",
      static_cast<unsigned long long>(s.sent), l.size(), static_cast<unsigned long long>(s.errors),
      pct(0.5), pct(0.9), pct(0.99), pct(0.999), l.empty() ? 0.0 : l.back());
}

std::vector<int> connectAll(const Options& o) {
  std::vector<int> fds;
  for (int i = 0; i < o.connections; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(o.port));
    inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      std::perror("connect");
      close(fd);
      fd = -1;
    } else {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      fcntl(fd, F_SETFL, O_NONBLOCK);
    }
    fds.push_back(fd);
  }
  return fds;
}

}  // namespace weft::openloop
