#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

namespace weft::network {

// An IPv4 or IPv6 socket address.
class Address {
 public:
  // Parses an IP literal and port; nullopt when `ip` is not an IP literal.
  static std::optional<Address> fromIpPort(std::string_view ip, uint16_t port);
  static Address fromSockaddr(const sockaddr* sa);

  const struct sockaddr* sockAddr() const {
    return reinterpret_cast<const struct sockaddr*>(&storage_);
  }
  socklen_t length() const;
  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  std::string ip() const;
  // "1.2.3.4:80" or "[::1]:80".
  std::string toString() const;

  bool operator==(const Address& other) const { return toString() == other.toString(); }

 private:
  sockaddr_storage storage_{};
};

}  // namespace weft::network
