#include "proxy/matcher/matcher.h"

namespace weft::matcher {

std::string lowered(std::string_view s) {
  std::string out(s);
  http::toLowerInPlace(out);
  return out;
}

bool hasPrefix(std::string_view s, std::string_view prefix, bool ignore_case) {
  if (s.size() < prefix.size()) return false;
  return ignore_case ? http::equalsIgnoreCase(s.substr(0, prefix.size()), prefix)
                     : s.substr(0, prefix.size()) == prefix;
}

bool hasSuffix(std::string_view s, std::string_view suffix, bool ignore_case) {
  if (s.size() < suffix.size()) return false;
  std::string_view tail = s.substr(s.size() - suffix.size());
  return ignore_case ? http::equalsIgnoreCase(tail, suffix) : tail == suffix;
}

std::string_view pathWithoutQuery(std::string_view path) {
  size_t q = path.find_first_of("?#");
  return q == std::string_view::npos ? path : path.substr(0, q);
}

std::optional<std::string_view> queryParameter(std::string_view path, std::string_view name) {
  size_t q = path.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = path.substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view element = query.substr(0, amp);
    size_t eq = element.find('=');
    std::string_view key = element.substr(0, eq);
    if (key == name) {
      return eq == std::string_view::npos ? std::string_view() : element.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool QueryParameterMatch::matches(std::string_view path) const {
  std::optional<std::string_view> value = queryParameter(path, name);
  if (!value) return false;
  return match.kind == StringMatch::Kind::kPresent || match.matches(*value);
}

bool StringMatch::matches(std::string_view input) const {
  switch (kind) {
    case Kind::kExact:
      return ignore_case ? http::equalsIgnoreCase(input, value) : input == value;
    case Kind::kPrefix:
      return hasPrefix(input, value, ignore_case);
    case Kind::kSuffix:
      return hasSuffix(input, value, ignore_case);
    case Kind::kContains:
      if (ignore_case) return lowered(input).find(lowered(value)) != std::string::npos;
      return input.find(value) != std::string_view::npos;
    case Kind::kRegex:
      return re2::RE2::FullMatch(re2::StringPiece(input.data(), input.size()), *regex);
    case Kind::kPresent:
      return true;
  }
  return false;
}

bool HeaderMatch::matches(const http::HeaderMap& headers) const {
  const std::string* value = headers.get(name);
  bool matched = value != nullptr && match.matches(*value);
  return matched != invert;
}

}  // namespace weft::matcher
