#include "common/yaml/yaml_json.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <stdexcept>

#include "common/yaml/yaml_documents.h"

namespace weft::common {
namespace {

using ojson = nlohmann::ordered_json;

// How a plain (unquoted) scalar resolves under the YAML 1.2 core schema.
ojson resolvePlain(const std::string& s) {
  static const RE2 null_re(R"(~|null|Null|NULL|)");
  static const RE2 true_re(R"(true|True|TRUE)");
  static const RE2 false_re(R"(false|False|FALSE)");
  static const RE2 int_re(R"([-+]?[0-9]+)");
  static const RE2 float_re(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (RE2::FullMatch(s, null_re)) return nullptr;
  if (RE2::FullMatch(s, true_re)) return true;
  if (RE2::FullMatch(s, false_re)) return false;
  if (RE2::FullMatch(s, int_re)) {
    try {
      return std::stoll(s);
    } catch (const std::out_of_range&) {
      return s;  // out of range: keep the digits
    }
  }
  if (RE2::FullMatch(s, float_re)) {
    try {
      return std::stod(s);
    } catch (const std::out_of_range&) {
      return s;  // beyond a double (found by bootstrap_fuzz): keep the text
    }
  }
  return s;
}

}  // namespace

ojson yamlNodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      return node.Tag() == "!" ? ojson(node.Scalar()) : resolvePlain(node.Scalar());
    case YAML::NodeType::Sequence: {
      ojson out = ojson::array();
      for (const auto& item : node) out.push_back(yamlNodeToJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      ojson out = ojson::object();
      for (const auto& entry : node)
        out[entry.first.as<std::string>()] = yamlNodeToJson(entry.second);
      return out;
    }
    default:
      return nullptr;
  }
}

namespace {

void emit(YAML::Emitter& out, const ojson& value) {
  switch (value.type()) {
    case ojson::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key << key << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      break;
    case ojson::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& item : value) emit(out, item);
      out << YAML::EndSeq;
      break;
    case ojson::value_t::string: {
      const std::string& s = value.get_ref<const std::string&>();
      // A string that would read back as another type is quoted.
      if (!resolvePlain(s).is_string()) {
        out << YAML::DoubleQuoted << s;
      } else {
        out << s;
      }
      break;
    }
    case ojson::value_t::boolean:
      out << (value.get<bool>() ? "true" : "false");
      break;
    case ojson::value_t::null:
      out << YAML::Null;
      break;
    default:
      out << value.dump();  // numbers, as JSON writes them
  }
}

std::string yamlError(const YAML::Exception& e) {
  return "invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
         std::to_string(e.mark.column + 1) + ": " + e.msg;
}

}  // namespace

bool yamlDocumentsToJson(const std::string& text, std::vector<ojson>* docs, std::string* error) {
  std::vector<YAML::Node> nodes;
  if (!loadYamlDocuments(text, &nodes, error)) return false;
  try {
    for (const auto& node : nodes) {
      if (node.IsNull()) continue;
      docs->push_back(yamlNodeToJson(node));
    }
  } catch (const YAML::Exception& e) {
    *error = yamlError(e);
    return false;
  }
  return true;
}

bool yamlToJson(const std::string& yaml, std::string* json, std::string* error) {
  std::vector<YAML::Node> nodes;
  if (!loadYamlDocuments(yaml, &nodes, error)) return false;
  if (nodes.size() > 1) {
    *error = "one YAML document expected, found " + std::to_string(nodes.size());
    return false;
  }
  try {
    *json = yamlNodeToJson(nodes.empty() ? YAML::Node() : nodes[0]).dump();
    return true;
  } catch (const YAML::Exception& e) {
    *error = yamlError(e);
    return false;
  } catch (const nlohmann::json::exception& e) {
    // Not expected once the text passed loadYamlDocuments; never terminate on input.
    *error = std::string("cannot convert the YAML to JSON: ") + e.what();
    return false;
  }
}

std::string jsonDocumentsToYaml(const std::vector<ojson>& docs) {
  std::string out;
  for (size_t i = 0; i < docs.size(); ++i) {
    YAML::Emitter emitter;
    emit(emitter, docs[i]);
    if (i > 0) out += "---\n";
    out += emitter.c_str();
    out += "\n";
  }
  return out;
}

}  // namespace weft::common
