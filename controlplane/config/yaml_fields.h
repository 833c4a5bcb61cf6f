#pragma once

// Typed reads of a YAML object's fields for the kind decoders. A field that
// is not what it should be throws FieldError naming it; the document is then
// reported with the field's path and skipped, and the rest of the file still
// applies.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>

#include "controlplane/model/objects.h"

namespace weft::control {

struct FieldError {
  std::string field;
  std::string message;
};

// "" when absent or null.
std::string str(const YAML::Node& node, const std::string& field);
int64_t integer(const YAML::Node& node, const std::string& field, int64_t min, int64_t max);
// A Gateway API duration, in milliseconds.
uint64_t duration(const YAML::Node& node, const std::string& field);
std::map<std::string, std::string> stringMap(const YAML::Node& node, const std::string& field);
// metadata (name required; namespace defaults to "default"), `origin` kept for errors.
ObjectMeta meta(const YAML::Node& doc, const std::string& origin);
// spec, which must be a map.
const YAML::Node spec(const YAML::Node& doc);
// Throws naming the first key of the map `node` (at `path`) not in `known`:
// a field weft does not read is an error, never silently ignored.
void onlyKeys(const YAML::Node& node, const std::string& path,
              std::initializer_list<const char*> known);

// RFC 1123 label: 1-63 of [a-z0-9-], not starting or ending with '-'.
bool isDnsLabel(const std::string& text);
// Dot-separated DNS labels, at most 253 characters ("api.example.com").
bool isDnsName(const std::string& text);

// Gateway API durations (GEP-2257): "1h", "30m", "10s", "250ms", combined
// ("1m30s"). nullopt when malformed.
std::optional<uint64_t> parseGatewayDurationMs(const std::string& text);

}  // namespace weft::control
