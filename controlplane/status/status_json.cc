#include "controlplane/status/status_json.h"

namespace weft::control::status {

namespace {

nlohmann::json conditionJson(const Condition& c) {
  return {{"type", c.type},
          {"status", c.status},
          {"reason", c.reason},
          {"message", c.message},
          {"observedGeneration", c.observed_generation},
          {"lastTransitionTime", c.last_transition_time}};
}

nlohmann::json currentStatus(const ObjectStatus& object) {
  if (object.subject.status_json.empty()) return nlohmann::json::object();
  nlohmann::json current = nlohmann::json::parse(object.subject.status_json, nullptr, false);
  return current.is_object() ? current : nlohmann::json::object();
}

const nlohmann::json* conditionsAt(const nlohmann::json& status, const std::string& parent) {
  if (parent.empty()) {
    auto it = status.find("conditions");
    return it != status.end() && it->is_array() ? &*it : nullptr;
  }
  auto parents = status.find("parents");
  if (parents == status.end() || !parents->is_array()) return nullptr;
  for (const auto& entry : *parents) {
    if (!entry.is_object() || entry.value("controllerName", "") != kControllerName) continue;
    auto ref = entry.find("parentRef");
    if (ref == entry.end() || ref->dump() != parent) continue;
    auto conditions = entry.find("conditions");
    return conditions != entry.end() && conditions->is_array() ? &*conditions : nullptr;
  }
  return nullptr;
}

}  // namespace

nlohmann::json parentRefJson(const StatusSubject::ParentRef& ref) {
  nlohmann::json out = {{"group", ref.group == "core" ? "" : ref.group},
                        {"kind", ref.kind.empty() ? "Service" : ref.kind},
                        {"name", ref.name}};
  if (!ref.ns.empty()) out["namespace"] = ref.ns;
  if (!ref.section_name.empty()) out["sectionName"] = ref.section_name;
  if (ref.port != 0) out["port"] = ref.port;
  return out;
}

nlohmann::json desiredStatus(const ObjectStatus& object) {
  nlohmann::json current = currentStatus(object);
  if (!object.route) {
    nlohmann::json conditions = nlohmann::json::array();
    for (const auto& c : object.conditions) conditions.push_back(conditionJson(c));
    return {{"conditions", conditions}};
  }
  nlohmann::json parents = nlohmann::json::array();
  // Other controllers' entries stay; weft's own are replaced.
  if (current.contains("parents") && current["parents"].is_array()) {
    for (const auto& entry : current["parents"]) {
      if (entry.is_object() && entry.value("controllerName", "") != kControllerName) {
        parents.push_back(entry);
      }
    }
  }
  for (const auto& parent : object.parents) {
    nlohmann::json conditions = nlohmann::json::array();
    for (const auto& c : parent.conditions) conditions.push_back(conditionJson(c));
    parents.push_back({{"parentRef", parentRefJson(parent.ref)},
                       {"controllerName", kControllerName},
                       {"conditions", conditions}});
  }
  return {{"parents", parents}};
}

bool upToDate(const ObjectStatus& object) {
  nlohmann::json current = currentStatus(object);
  nlohmann::json desired = desiredStatus(object);
  for (const auto& [key, value] : desired.items()) {
    if (!current.contains(key) || current[key] != value) return false;
  }
  return true;
}

nlohmann::json statuszEntry(const ObjectStatus& object) {
  return {{"kind", object.subject.kind},
          {"namespace", object.subject.ns},
          {"name", object.subject.name},
          {"generation", object.subject.generation},
          {"status", desiredStatus(object)}};
}

std::string previousTransitionTime(const ObjectStatus& object, const std::string& parent,
                                   const Condition& c) {
  const nlohmann::json current = currentStatus(object);
  const nlohmann::json* conditions = conditionsAt(current, parent);
  if (conditions == nullptr) return "";
  for (const auto& existing : *conditions) {
    if (existing.is_object() && existing.value("type", "") == c.type &&
        existing.value("status", "") == c.status) {
      return existing.value("lastTransitionTime", "");
    }
  }
  return "";
}

}  // namespace weft::control::status
