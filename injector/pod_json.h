#pragma once

// Reading a pod as JSON without exceptions: a missing or mistyped field
// reads as null, so hostile or odd pods never throw.

#include <nlohmann/json.hpp>
#include <string>

namespace weft::injector {

// object[key], or null when `object` is not an object or has no `key`.
const nlohmann::json& field(const nlohmann::json& object, const char* key);
// metadata.annotations[key] when it is a string, else "".
std::string annotation(const nlohmann::json& pod, const std::string& key);
bool hasContainerNamed(const nlohmann::json& spec, const char* list, const std::string& name);

}  // namespace weft::injector
