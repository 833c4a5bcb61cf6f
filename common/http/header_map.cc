#include "common/http/header_map.h"

#include <algorithm>
#include <charconv>

namespace weft::http {

void HeaderMap::set(std::string_view name, std::string value) {
  remove(name);
  add(std::string(name), std::move(value));
}

void HeaderMap::remove(std::string_view name) {
  auto it = std::remove_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
    if (e.first != name) return false;
    bytes_ -= e.first.size() + e.second.size();
    return true;
  });
  entries_.erase(it, entries_.end());
}

const std::string* HeaderMap::get(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.first == name) return &e.second;
  }
  return nullptr;
}

int HeaderMap::statusCode() const {
  std::string_view s = status();
  int code = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), code);
  return res.ec == std::errc() ? code : 0;
}

void toLowerInPlace(std::string& s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace weft::http
