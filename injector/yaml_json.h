#pragma once

// YAML <-> JSON for Kubernetes manifests: plain scalars resolve by the YAML
// 1.2 core schema (what kubectl does), quoted ones stay strings, and key
// order is kept so that rewritten manifests read like their input.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace weft::injector {

// Every document of a multi-document YAML stream (null documents dropped);
// false with `error` naming the line.
bool yamlDocumentsToJson(const std::string& text, std::vector<nlohmann::ordered_json>* docs,
                         std::string* error);

// Block-style YAML, documents separated by "---".
std::string jsonDocumentsToYaml(const std::vector<nlohmann::ordered_json>& docs);

}  // namespace weft::injector
