#include "controlplane/model/objects.h"

namespace weft::control {

std::string ConfigError::toString() const {
  std::string out = origin;
  if (!object.empty()) out += ": " + object;
  if (!field.empty()) out += ": " + field;
  return out + ": " + message;
}

const Service* ConfigSet::findService(const std::string& ns, const std::string& name) const {
  for (const auto& s : services) {
    if (s.meta.ns == ns && s.meta.name == name) return &s;
  }
  return nullptr;
}

}  // namespace weft::control
