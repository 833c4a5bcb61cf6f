#pragma once

// Helpers shared by the HTTP/1 server and client codecs.

#include <string>
#include <string_view>

#include "proxy/http/header_map.h"

namespace weft::http::http1 {

// Hop-by-hop headers (RFC 9110 §7.6.1) that never cross the proxy, plus any
// header the message's `connection` header names.
void removeConnectionHeaders(HeaderMap& headers);

// Appends "name: value\r\n" for every regular (non-pseudo) header, skipping
// framing headers the codec writes itself.
void appendHeaderBlock(const HeaderMap& headers, std::string& out);

void appendChunk(std::string_view data, std::string& out);

// Collects header name/value fragments as http_parser delivers them.
class HeaderCollector {
 public:
  void onField(std::string_view fragment);
  void onValue(std::string_view fragment);
  // Adds the last pending pair to `headers`.
  void finish(HeaderMap& headers);
  size_t bytes() const { return bytes_; }
  void reset();

 private:
  std::string field_;
  std::string value_;
  bool last_was_value_ = false;
  size_t bytes_ = 0;
  HeaderMap collected_;
};

}  // namespace weft::http::http1
