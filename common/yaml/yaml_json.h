#pragma once

// YAML <-> JSON, the one conversion every weft binary uses (bootstraps,
// Kubernetes manifests). Plain scalars resolve by the YAML 1.2 core schema,
// as kubectl does (`80` is a number, `true` a boolean, `~` null); quoted
// scalars stay strings (`"80"`); key order is kept, so a rewritten manifest
// reads like its input.

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace weft::common {

// Every document of a multi-document YAML stream (null documents dropped);
// false with `error` naming the line.
bool yamlDocumentsToJson(const std::string& text, std::vector<nlohmann::ordered_json>* docs,
                         std::string* error);

// Exactly one YAML document (none reads as null) as JSON text; false with
// `error` naming the line, or saying how many documents there were.
bool yamlToJson(const std::string& yaml, std::string* json, std::string* error);

// One parsed node as JSON: quoted scalars stay strings, plain ones resolve
// by the core schema (so JSON read as YAML keeps its types).
nlohmann::ordered_json yamlNodeToJson(const YAML::Node& node);

// Block-style YAML, documents separated by "---".
std::string jsonDocumentsToYaml(const std::vector<nlohmann::ordered_json>& docs);

}  // namespace weft::common
