#include "injector/pod_json.h"

namespace weft::injector {

using json = nlohmann::json;

const json& field(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string annotation(const json& pod, const std::string& key) {
  const json& value = field(field(field(pod, "metadata"), "annotations"), key.c_str());
  return value.is_string() ? value.get<std::string>() : "";
}

bool hasContainerNamed(const json& spec, const char* list, const std::string& name) {
  const json& containers = field(spec, list);
  if (!containers.is_array()) return false;
  for (const auto& c : containers) {
    if (field(c, "name").is_string() && field(c, "name").get<std::string>() == name) return true;
  }
  return false;
}

}  // namespace weft::injector
