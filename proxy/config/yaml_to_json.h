#pragma once

#include <string>

namespace weft::config {

// Converts a YAML document to JSON text. Plain scalars that read as numbers,
// booleans or null become JSON literals; quoted scalars stay strings (so
// `port_value: 80` is a number and `name: "80"` a string). Returns false with
// `error` naming the line on malformed YAML.
bool yamlToJson(const std::string& yaml, std::string* json, std::string* error);

}  // namespace weft::config
