#pragma once

// Envoy's StringMatcher and HeaderMatcher, compiled: what routes and RBAC
// policies both match requests with.

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/header_map.h"

namespace weft::matcher {

struct StringMatch {
  enum class Kind { kExact, kPrefix, kSuffix, kContains, kRegex, kPresent };
  Kind kind = Kind::kExact;
  std::string value;
  bool ignore_case = false;
  std::shared_ptr<const re2::RE2> regex;

  bool matches(std::string_view input) const;
};

struct HeaderMatch {
  std::string name;
  StringMatch match;
  bool invert = false;

  // An absent header does not match (and so matches when inverted).
  bool matches(const http::HeaderMap& headers) const;
};

// Envoy's QueryParameterMatcher: the request's query string read as
// &-separated `key` or `key=value` elements; the first element with `name`
// is compared (`key` alone has the value ""), values as sent.
struct QueryParameterMatch {
  std::string name;
  StringMatch match;  // kPresent: the key is there, whatever its value

  bool matches(std::string_view path) const;
};

// The value of the first `name` element of `path`'s query string (before
// any '#'), or nullopt.
std::optional<std::string_view> queryParameter(std::string_view path, std::string_view name);

// `s` in ASCII lower case.
std::string lowered(std::string_view s);
bool hasPrefix(std::string_view s, std::string_view prefix, bool ignore_case);
bool hasSuffix(std::string_view s, std::string_view suffix, bool ignore_case);

// The path without its query string or fragment, which path matchers ignore
// (as Envoy's do).
std::string_view pathWithoutQuery(std::string_view path);

}  // namespace weft::matcher
