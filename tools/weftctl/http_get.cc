#include "tools/weftctl/http_get.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace weft::ctl {

bool httpGet(const std::string& host, int port, const std::string& path, int* status,
             std::string* body, std::string* error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &result) != 0) {
    *error = "cannot resolve " + host;
    return false;
  }
  int fd = socket(result->ai_family, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, result->ai_addr, result->ai_addrlen) != 0) {
    *error = "cannot connect to " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    freeaddrinfo(result);
    if (fd >= 0) close(fd);
    return false;
  }
  freeaddrinfo(result);
  std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    *error = "write failed";
    close(fd);
    return false;
  }
  std::string response;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  size_t head_end = response.find("\r\n\r\n");
  if (response.compare(0, 9, "HTTP/1.1 ") != 0 || head_end == std::string::npos) {
    *error = "not an HTTP response";
    return false;
  }
  *status = std::atoi(response.c_str() + 9);
  std::string head = response.substr(0, head_end);
  *body = response.substr(head_end + 4);
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    std::string decoded;
    size_t pos = 0;
    while (pos < body->size()) {
      size_t eol = body->find("\r\n", pos);
      if (eol == std::string::npos) break;
      size_t size = std::strtoul(body->substr(pos, eol - pos).c_str(), nullptr, 16);
      if (size == 0) break;
      decoded += body->substr(eol + 2, size);
      pos = eol + 2 + size + 2;
    }
    *body = decoded;
  }
  return true;
}

}  // namespace weft::ctl
