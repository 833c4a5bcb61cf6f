#include "common/network/address.h"

#include <arpa/inet.h>
#include <uv.h>

#include <cstring>

namespace weft::network {

std::optional<Address> Address::fromIpPort(std::string_view ip, uint16_t port) {
  std::string ip_str(ip);
  if (ip_str.size() > 2 && ip_str.front() == '[' && ip_str.back() == ']') {
    ip_str = ip_str.substr(1, ip_str.size() - 2);
  }
  Address address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage_);
  if (uv_ip4_addr(ip_str.c_str(), port, v4) == 0) return address;
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage_);
  if (uv_ip6_addr(ip_str.c_str(), port, v6) == 0) return address;
  return std::nullopt;
}

Address Address::fromSockaddr(const struct sockaddr* sa) {
  Address address;
  std::memcpy(&address.storage_, sa,
              sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  return address;
}

socklen_t Address::length() const {
  return family() == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

uint16_t Address::port() const {
  if (family() == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
}

std::string Address::ip() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
              sizeof(buf));
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf,
              sizeof(buf));
  }
  return buf;
}

std::string Address::toString() const {
  if (family() == AF_INET6) return "[" + ip() + "]:" + std::to_string(port());
  return ip() + ":" + std::to_string(port());
}

}  // namespace weft::network
