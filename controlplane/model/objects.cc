#include "controlplane/model/objects.h"

namespace weft::control {

std::string ConfigError::toString() const {
  std::string out = origin;
  if (!object.empty()) out += ": " + object;
  if (!field.empty()) out += ": " + field;
  return out + ": " + message;
}

bool HttpRoute::parentNames(size_t i, const Service& svc, const ServicePort& port) const {
  const ParentRef& parent = parent_refs[i];
  const std::string& ns = parent.ns.empty() ? meta.ns : parent.ns;
  if (ns != svc.meta.ns || parent.name != svc.meta.name) return false;
  if (parent.port != 0 && parent.port != port.port) return false;
  return parent.section_name.empty() || parent.section_name == port.name;
}

bool HttpRoute::attachesTo(const Service& svc, const ServicePort& port) const {
  for (size_t i = 0; i < parent_refs.size(); ++i) {
    if (!parentNames(i, svc, port)) continue;
    bool lost = false;
    for (const auto& c : conflicts) lost = lost || (c.parent_index == i && c.port == port.port);
    if (!lost) return true;
  }
  return false;
}

const Service* ConfigSet::findService(const std::string& ns, const std::string& name) const {
  for (const auto& s : services) {
    if (s.meta.ns == ns && s.meta.name == name) return &s;
  }
  return nullptr;
}

}  // namespace weft::control
