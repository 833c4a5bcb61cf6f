#pragma once

// Every YAML text weft reads (bootstraps, mesh configuration, injector
// configuration and pods) goes through here, for two defects of Debian 12's
// yaml-cpp 0.7 that fuzzing found:
//  - a ',' where a node should start (e.g. a file that is just ",") makes
//    LoadAll loop forever, allocating an empty document per turn;
//  - bytes that are not UTF-8 pass the parser and later throw from
//    nlohmann::json's serializer (which terminated weft-proxy).
// Both are refused here with the line and column.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::common {

// Every document of `text`; false with `error` set when it is not YAML.
bool loadYamlDocuments(const std::string& text, std::vector<YAML::Node>* documents,
                       std::string* error);

// The offset of the first byte of `text` that is not valid UTF-8, if any.
std::optional<size_t> firstInvalidUtf8(std::string_view text);

}  // namespace weft::common
