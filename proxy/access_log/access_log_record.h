#pragma once

// What one finished HTTP stream or TCP connection says, for an access-log
// line: views into the stream's own state, valid only during the formatting
// call (nothing here is copied on the request path).

#include <chrono>
#include <cstdint>
#include <string_view>

#include "common/http/header_map.h"
#include "common/network/address.h"

namespace weft::access_log {

struct AccessLogRecord {
  int64_t start_time_us = 0;  // wall clock (system_clock), microseconds since the epoch
  const http::HeaderMap* request_headers = nullptr;  // null for TCP
  const http::HeaderMap* response_headers = nullptr;
  const http::HeaderMap* response_trailers = nullptr;
  std::string_view protocol;  // "HTTP/1.1", "HTTP/2"; empty for TCP
  int response_code = 0;      // 0: none reached the client
  uint32_t response_flags = 0;
  uint64_t bytes_received = 0;  // body bytes from the downstream (TCP: all bytes)
  uint64_t bytes_sent = 0;      // body bytes to the downstream
  uint64_t duration_ms = 0;
  std::string_view upstream_host;  // "IP:PORT" of the last attempt, empty when none
  std::string_view upstream_cluster;
  const network::Address* downstream_remote = nullptr;
  const network::Address* downstream_local = nullptr;
  std::string_view downstream_peer_uri_san;  // the client certificate's URI SAN
  std::string_view route_name;
};

// %START_TIME%'s clock: wall time, microseconds since the epoch.
inline int64_t wallClockNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace weft::access_log
