#pragma once

// Helpers shared by the HTTP/1 server and client codecs.

#include <string>
#include <string_view>

#include "common/http/header_map.h"

namespace weft::http::http1 {

// Hop-by-hop headers (RFC 9110 §7.6.1) that never cross the proxy, plus any
// header the message's `connection` header names.
void removeConnectionHeaders(HeaderMap& headers);

// Appends "name: value\r\n" for every regular (non-pseudo) header, skipping
// framing headers the codec writes itself.
void appendHeaderBlock(const HeaderMap& headers, std::string& out);

void appendChunk(std::string_view data, std::string& out);

// RFC 9110 §5.1: a field name is a token (no whitespace, no separators).
// http_parser without HTTP_PARSER_STRICT (Debian's build) lets spaces
// through, so "Content-Length : 5" would reach a lenient backend as a
// second, unframed length: the codecs check every name themselves.
bool isToken(std::string_view name);

// Collects header name/value fragments as http_parser delivers them.
class HeaderCollector {
 public:
  void onField(std::string_view fragment);
  void onValue(std::string_view fragment);
  // Adds the collected fields to `headers`; false (and nothing added) when
  // a field name is not a token.
  bool finish(HeaderMap& headers);
  size_t bytes() const { return bytes_; }
  size_t count() const { return count_; }  // fields started so far
  void reset();

 private:
  std::string field_;
  std::string value_;
  bool last_was_value_ = false;
  size_t bytes_ = 0;
  size_t count_ = 0;
  HeaderMap collected_;
};

}  // namespace weft::http::http1
