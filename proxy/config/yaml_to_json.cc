#include "proxy/config/yaml_to_json.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "proxy/common/yaml_documents.h"

namespace weft::config {

namespace {
nlohmann::json scalarToJson(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: always a string
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  if (text == "null" || text == "~" || text.empty()) return nullptr;
  char* end = nullptr;
  long long integer = std::strtoll(text.c_str(), &end, 10);
  if (end != text.c_str() && *end == '\0') return integer;
  double real = std::strtod(text.c_str(), &end);
  if (end != text.c_str() && *end == '\0' && text.find_first_of(".eE") != std::string::npos) {
    return real;
  }
  return text;
}

nlohmann::json toJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalarToJson(node);
    case YAML::NodeType::Sequence: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& item : node) arr.push_back(toJson(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& kv : node) obj[kv.first.as<std::string>()] = toJson(kv.second);
      return obj;
    }
    case YAML::NodeType::Undefined:
      return nullptr;
  }
  return nullptr;
}
}  // namespace

bool yamlToJson(const std::string& yaml, std::string* json, std::string* error) {
  std::vector<YAML::Node> documents;
  if (!common::loadYamlDocuments(yaml, &documents, error)) return false;
  if (documents.size() > 1) {
    *error = "one YAML document expected, found " + std::to_string(documents.size());
    return false;
  }
  try {
    *json = toJson(documents.empty() ? YAML::Node() : documents[0]).dump();
    return true;
  } catch (const nlohmann::json::exception& e) {
    // Not expected once the text passed loadYamlDocuments; never terminate on input.
    *error = std::string("cannot convert the YAML to JSON: ") + e.what();
    return false;
  } catch (const YAML::Exception& e) {
    *error = "invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
             std::to_string(e.mark.column + 1) + ": " + e.msg;
    return false;
  }
}

}  // namespace weft::config
