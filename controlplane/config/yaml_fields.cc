#include "controlplane/config/yaml_fields.h"

#include <stdexcept>

namespace weft::control {

std::string str(const YAML::Node& node, const std::string& field) {
  if (!node || node.IsNull()) return "";
  if (!node.IsScalar()) throw FieldError{field, "must be a string"};
  return node.Scalar();
}

int64_t integer(const YAML::Node& node, const std::string& field, int64_t min, int64_t max) {
  if (!node.IsScalar()) throw FieldError{field, "must be a number"};
  try {
    size_t used = 0;
    int64_t v = std::stoll(node.Scalar(), &used);
    if (used != node.Scalar().size()) throw std::invalid_argument("trailing");
    if (v < min || v > max) {
      throw FieldError{field, "must be within " + std::to_string(min) + ".." + std::to_string(max) +
                                  " (got " + node.Scalar() + ")"};
    }
    return v;
  } catch (const std::logic_error&) {
    throw FieldError{field, "'" + node.Scalar() + "' is not a number"};
  }
}

uint64_t duration(const YAML::Node& node, const std::string& field) {
  auto ms = parseGatewayDurationMs(str(node, field));
  if (!ms) throw FieldError{field, "'" + node.Scalar() + "' is not a duration (e.g. 10s, 500ms)"};
  return *ms;
}

std::map<std::string, std::string> stringMap(const YAML::Node& node, const std::string& field) {
  std::map<std::string, std::string> out;
  if (!node) return out;
  if (!node.IsMap()) throw FieldError{field, "must be a map"};
  for (const auto& kv : node)
    out[kv.first.Scalar()] = str(kv.second, field + "." + kv.first.Scalar());
  return out;
}

ObjectMeta meta(const YAML::Node& doc, const std::string& origin) {
  ObjectMeta m;
  m.origin = origin;
  const YAML::Node md = doc["metadata"];
  if (!md || !md.IsMap()) throw FieldError{"metadata", "is required"};
  m.name = str(md["name"], "metadata.name");
  if (m.name.empty()) throw FieldError{"metadata.name", "is required"};
  std::string ns = str(md["namespace"], "metadata.namespace");
  if (!ns.empty()) m.ns = ns;
  m.labels = stringMap(md["labels"], "metadata.labels");
  m.annotations = stringMap(md["annotations"], "metadata.annotations");
  m.creation_timestamp = str(md["creationTimestamp"], "metadata.creationTimestamp");
  return m;
}

const YAML::Node spec(const YAML::Node& doc) {
  const YAML::Node s = doc["spec"];
  if (!s || !s.IsMap()) throw FieldError{"spec", "is required"};
  return s;
}

void onlyKeys(const YAML::Node& node, const std::string& path,
              std::initializer_list<const char*> known) {
  if (!node.IsMap()) throw FieldError{path, "must be a map"};
  for (const auto& entry : node) {
    std::string key = entry.first.as<std::string>();
    bool found = false;
    for (const char* k : known) found = found || key == k;
    if (!found) {
      std::string names;
      for (const char* k : known) names += std::string(names.empty() ? "" : ", ") + k;
      throw FieldError{path + "." + key, "is not a field weft reads here (it has " + names + ")"};
    }
  }
}

std::optional<uint64_t> parseGatewayDurationMs(const std::string& text) {
  if (text.empty()) return std::nullopt;
  uint64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i - start > 5) return std::nullopt;
    uint64_t n = std::stoull(text.substr(start, i - start));
    if (text.compare(i, 2, "ms") == 0) {
      total += n;
      i += 2;
    } else if (i < text.size() && text[i] == 's') {
      total += n * 1000;
      ++i;
    } else if (i < text.size() && text[i] == 'm') {
      total += n * 60 * 1000;
      ++i;
    } else if (i < text.size() && text[i] == 'h') {
      total += n * 3600 * 1000;
      ++i;
    } else {
      return std::nullopt;
    }
  }
  return total;
}

bool isDnsLabel(const std::string& text) {
  if (text.empty() || text.size() > 63 || text.front() == '-' || text.back() == '-') return false;
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool isDnsName(const std::string& text) {
  if (text.empty() || text.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    if (!isDnsLabel(text.substr(start, dot == std::string::npos ? dot : dot - start))) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

}  // namespace weft::control
