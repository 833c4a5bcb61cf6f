#include "common/http/http1_common.h"

#include <cstdio>

namespace weft::http::http1 {

namespace {
bool isFramingHeader(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name == "host";
}
}  // namespace

void removeConnectionHeaders(HeaderMap& headers) {
  if (const std::string* connection = headers.get("connection")) {
    std::string tokens = *connection;
    size_t start = 0;
    while (start < tokens.size()) {
      size_t comma = tokens.find(',', start);
      if (comma == std::string::npos) comma = tokens.size();
      std::string token = tokens.substr(start, comma - start);
      size_t b = token.find_first_not_of(" \t");
      size_t e = token.find_last_not_of(" \t");
      if (b != std::string::npos) {
        token = token.substr(b, e - b + 1);
        toLowerInPlace(token);
        if (token != "close" && token != "keep-alive" && token != "upgrade") headers.remove(token);
      }
      start = comma + 1;
    }
  }
  headers.remove("connection");
  headers.remove("keep-alive");
  headers.remove("proxy-connection");
  headers.remove("transfer-encoding");
  headers.remove("upgrade");
}

void appendHeaderBlock(const HeaderMap& headers, std::string& out) {
  for (const auto& [name, value] : headers.entries()) {
    if (name.empty() || name[0] == ':' || isFramingHeader(name)) continue;
    out.append(name).append(": ").append(value).append("\r\n");
  }
}

void appendChunk(std::string_view data, std::string& out) {
  if (data.empty()) return;
  char size[20];
  int n = std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  out.append(size, static_cast<size_t>(n));
  out.append(data);
  out.append("\r\n");
}

bool isToken(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

void HeaderCollector::onField(std::string_view fragment) {
  if (field_.empty() || last_was_value_) ++count_;
  if (last_was_value_) {
    toLowerInPlace(field_);
    collected_.add(std::move(field_), std::move(value_));
    field_.clear();
    value_.clear();
    last_was_value_ = false;
  }
  field_.append(fragment);
  bytes_ += fragment.size();
}

void HeaderCollector::onValue(std::string_view fragment) {
  value_.append(fragment);
  last_was_value_ = true;
  bytes_ += fragment.size();
}

bool HeaderCollector::finish(HeaderMap& headers) {
  if (last_was_value_ || !field_.empty()) {
    toLowerInPlace(field_);
    collected_.add(std::move(field_), std::move(value_));
  }
  field_.clear();
  value_.clear();
  last_was_value_ = false;
  bool valid = true;
  for (const auto& e : collected_.entries()) valid &= isToken(e.first);
  if (valid) {
    for (auto& e : collected_.entries()) headers.add(e.first, e.second);
  }
  collected_ = HeaderMap();
  return valid;
}

void HeaderCollector::reset() {
  field_.clear();
  value_.clear();
  last_was_value_ = false;
  bytes_ = 0;
  count_ = 0;
  collected_ = HeaderMap();
}

}  // namespace weft::http::http1
