#include "proxy/sidecar/wait_command.h"
#include "mesh/sidecar_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace weft::sidecar {

namespace {

// One GET /ready; true on a 200.
bool ready(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return false;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string request = "GET /ready HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[64];
      ssize_t n = ::recv(fd, buffer, sizeof(buffer) - 1, 0);
      if (n > 0) {
        buffer[n] = '\0';
        std::string status_line(buffer);
        ok = status_line.rfind("HTTP/1.1 200", 0) == 0 || status_line.rfind("HTTP/1.0 200", 0) == 0;
      }
    }
  }
  ::close(fd);
  return ok;
}

void usage() {
  std::fprintf(stderr,
               "usage: weft-proxy wait [--port 15020] [--host 127.0.0.1] [--timeout-s 600]\n"
               "  returns 0 once http://HOST:PORT/ready answers 200, 1 on timeout\n");
}

}  // namespace

int runWait(int argc, char** argv, int first) {
  std::string host = "127.0.0.1";
  int port = mesh::sidecar_env::kDefaultStatusPort;
  double timeout_s = 600;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage();
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "weft-proxy wait: %s needs a value\n", arg.c_str());
      return 2;
    }
    std::string value = argv[++i];
    char* end = nullptr;
    if (arg == "--host") {
      host = value;
    } else if (arg == "--port") {
      long p = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || p < 1 || p > 65535) {
        std::fprintf(stderr, "weft-proxy wait: --port '%s' is not 1-65535\n", value.c_str());
        return 2;
      }
      port = static_cast<int>(p);
    } else if (arg == "--timeout-s") {
      timeout_s = std::strtod(value.c_str(), &end);
      if (*end != '\0' || timeout_s < 0) {
        std::fprintf(stderr, "weft-proxy wait: --timeout-s '%s' is not seconds\n", value.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "weft-proxy wait: unknown argument '%s'\n", arg.c_str());
      usage();
      return 2;
    }
  }
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  for (;;) {
    if (ready(host, port)) {
      double waited =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "weft-proxy wait: ready after %.1f s\n", waited);
      return 0;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::fprintf(stderr, "weft-proxy wait: http://%s:%d/ready not ready after %.0f s\n", host.c_str(),
               port, timeout_s);
  return 1;
}

}  // namespace weft::sidecar
