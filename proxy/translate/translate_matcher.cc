#include "proxy/translate/translate_matcher.h"

namespace weft::translate {

namespace route_v3 = envoy::config::route::v3;

bool stringMatchFrom(const envoy::type::matcher::v3::StringMatcher& proto, const std::string& path,
                     matcher::StringMatch* out, common::ErrorList& errors) {
  using Kind = matcher::StringMatch::Kind;
  out->ignore_case = proto.ignore_case();
  switch (proto.match_pattern_case()) {
    case envoy::type::matcher::v3::StringMatcher::kExact:
      out->kind = Kind::kExact;
      out->value = proto.exact();
      return true;
    case envoy::type::matcher::v3::StringMatcher::kPrefix:
      out->kind = Kind::kPrefix;
      out->value = proto.prefix();
      return true;
    case envoy::type::matcher::v3::StringMatcher::kSuffix:
      out->kind = Kind::kSuffix;
      out->value = proto.suffix();
      return true;
    case envoy::type::matcher::v3::StringMatcher::kContains:
      out->kind = Kind::kContains;
      out->value = proto.contains();
      return true;
    case envoy::type::matcher::v3::StringMatcher::kSafeRegex: {
      out->kind = Kind::kRegex;
      auto re = std::make_shared<re2::RE2>(proto.safe_regex().regex(), re2::RE2::Quiet);
      if (!re->ok()) {
        errors.add(path + ".safe_regex.regex", "invalid regex: " + re->error());
        return false;
      }
      out->regex = std::move(re);
      return true;
    }
    case envoy::type::matcher::v3::StringMatcher::MATCH_PATTERN_NOT_SET:
      break;
  }
  errors.add(path, "one of exact, prefix, suffix, contains, safe_regex is required");
  return false;
}

bool headerMatchFrom(const route_v3::HeaderMatcher& proto, const std::string& path,
                     matcher::HeaderMatch* out, common::ErrorList& errors) {
  using Kind = matcher::StringMatch::Kind;
  if (proto.name().empty()) {
    errors.add(path + ".name", "header name is required");
    return false;
  }
  out->name = proto.name();
  http::toLowerInPlace(out->name);
  out->invert = proto.invert_match();
  switch (proto.header_match_specifier_case()) {
    case route_v3::HeaderMatcher::kExactMatch:
      out->match.kind = Kind::kExact;
      out->match.value = proto.exact_match();
      return true;
    case route_v3::HeaderMatcher::kPrefixMatch:
      out->match.kind = Kind::kPrefix;
      out->match.value = proto.prefix_match();
      return true;
    case route_v3::HeaderMatcher::kSuffixMatch:
      out->match.kind = Kind::kSuffix;
      out->match.value = proto.suffix_match();
      return true;
    case route_v3::HeaderMatcher::kContainsMatch:
      out->match.kind = Kind::kContains;
      out->match.value = proto.contains_match();
      return true;
    case route_v3::HeaderMatcher::kPresentMatch:
      out->match.kind = Kind::kPresent;
      if (!proto.present_match()) out->invert = !out->invert;
      return true;
    case route_v3::HeaderMatcher::kSafeRegexMatch: {
      envoy::type::matcher::v3::StringMatcher sm;
      *sm.mutable_safe_regex() = proto.safe_regex_match();
      return stringMatchFrom(sm, path + ".safe_regex_match", &out->match, errors);
    }
    case route_v3::HeaderMatcher::kStringMatch:
      return stringMatchFrom(proto.string_match(), path + ".string_match", &out->match, errors);
    case route_v3::HeaderMatcher::HEADER_MATCH_SPECIFIER_NOT_SET:
      out->match.kind = Kind::kPresent;  // Envoy: no specifier means "present"
      return true;
  }
  return false;
}

}  // namespace weft::translate
