#include "controlplane/config/route_fields.h"

#include <set>

#include "controlplane/config/yaml_fields.h"

namespace weft::control {

namespace {

std::string lowered(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// RFC 7230 token characters: what a header name may hold.
bool isHeaderName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> headerValues(const YAML::Node& node,
                                                              const std::string& path,
                                                              std::set<std::string>& seen) {
  std::vector<std::pair<std::string, std::string>> out;
  YAML::Node list = sequence(node, path);
  for (size_t i = 0; i < list.size(); ++i) {
    std::string hpath = path + "[" + std::to_string(i) + "]";
    supportedKeys(list[i], hpath, {"name", "value"});
    std::string name = str(list[i]["name"], hpath + ".name");
    if (!isHeaderName(name)) {
      throw FieldError{hpath + ".name", "'" + name + "' is not a header name"};
    }
    if (!seen.insert(lowered(name)).second) {
      throw FieldError{hpath + ".name", "header '" + name + "' is modified twice in this filter"};
    }
    out.emplace_back(lowered(name), str(list[i]["value"], hpath + ".value"));
  }
  return out;
}

// RFC 1123 hostname, optionally "*." before it (the Gateway API's Hostname).
bool isRouteHostname(const std::string& name) {
  std::string rest = name.rfind("*.", 0) == 0 ? name.substr(2) : name;
  return isDnsName(rest) && rest.find_first_not_of("0123456789.") != std::string::npos;
}

}  // namespace

void supportedKeys(const YAML::Node& node, const std::string& path,
                   std::initializer_list<const char*> supported) {
  if (!node.IsMap()) throw FieldError{path, "must be a map"};
  for (const auto& entry : node) {
    std::string key = entry.first.as<std::string>();
    bool found = false;
    for (const char* k : supported) found = found || key == k;
    if (!found) {
      std::string names;
      for (const char* k : supported) names += std::string(names.empty() ? "" : ", ") + k;
      throw FieldError{path + "." + key, "is not supported by weft (here it reads " + names + ")"};
    }
  }
}

YAML::Node sequence(const YAML::Node& node, const std::string& path) {
  if (!node || node.IsNull()) return YAML::Node(YAML::NodeType::Sequence);
  if (!node.IsSequence()) throw FieldError{path, "must be a list"};
  return node;
}

std::vector<ParentRef> parentRefs(const YAML::Node& spec) {
  YAML::Node parents = sequence(spec["parentRefs"], "spec.parentRefs");
  if (parents.size() == 0)
    throw FieldError{"spec.parentRefs", "at least one parentRef is required"};
  std::vector<ParentRef> out;
  for (size_t i = 0; i < parents.size(); ++i) {
    std::string path = "spec.parentRefs[" + std::to_string(i) + "]";
    supportedKeys(parents[i], path, {"group", "kind", "name", "namespace", "port", "sectionName"});
    ParentRef ref;
    std::string kind = str(parents[i]["kind"], path + ".kind");
    if (!kind.empty()) ref.kind = kind;
    ref.group = str(parents[i]["group"], path + ".group");
    ref.name = str(parents[i]["name"], path + ".name");
    ref.ns = str(parents[i]["namespace"], path + ".namespace");
    if (parents[i]["port"]) {
      ref.port = static_cast<uint16_t>(integer(parents[i]["port"], path + ".port", 1, 65535));
    }
    ref.section_name = str(parents[i]["sectionName"], path + ".sectionName");
    if (ref.name.empty()) throw FieldError{path + ".name", "is required"};
    out.push_back(std::move(ref));
  }
  return out;
}

std::vector<std::string> routeHostnames(const YAML::Node& spec) {
  std::vector<std::string> out;
  YAML::Node hostnames = sequence(spec["hostnames"], "spec.hostnames");
  for (size_t i = 0; i < hostnames.size(); ++i) {
    std::string path = "spec.hostnames[" + std::to_string(i) + "]";
    std::string name = str(hostnames[i], path);
    if (!isRouteHostname(name)) {
      throw FieldError{path, "'" + name +
                                 "' is not a hostname (a DNS name, optionally \"*.\" "
                                 "first; IPs are not allowed)"};
    }
    out.push_back(name);
  }
  return out;
}

BackendRef backendRef(const YAML::Node& node, const std::string& path, bool allow_filters) {
  if (allow_filters) {
    supportedKeys(node, path, {"group", "kind", "name", "namespace", "port", "weight", "filters"});
  } else {
    supportedKeys(node, path, {"group", "kind", "name", "namespace", "port"});
  }
  BackendRef ref;
  ref.name = str(node["name"], path + ".name");
  ref.ns = str(node["namespace"], path + ".namespace");
  std::string group = str(node["group"], path + ".group");
  std::string kind = str(node["kind"], path + ".kind");
  if ((!group.empty() && group != "core") || (!kind.empty() && kind != "Service")) {
    throw FieldError{path + (kind.empty() || kind == "Service" ? ".group" : ".kind"),
                     "'" + (group.empty() ? "" : group + "/") + (kind.empty() ? "Service" : kind) +
                         "' is not supported by weft (only Services, group \"\", are backends)"};
  }
  if (node["port"])
    ref.port = static_cast<uint16_t>(integer(node["port"], path + ".port", 1, 65535));
  if (node["weight"]) ref.weight = integer(node["weight"], path + ".weight", 0, 1000000);
  if (ref.name.empty()) throw FieldError{path + ".name", "is required"};
  YAML::Node filters = sequence(node["filters"], path + ".filters");
  for (size_t i = 0; i < filters.size(); ++i) {
    std::string fpath = path + ".filters[" + std::to_string(i) + "]";
    std::string type = str(filters[i]["type"], fpath + ".type");
    if (type == "RequestHeaderModifier" || type == "ResponseHeaderModifier") {
      const char* key =
          type == "RequestHeaderModifier" ? "requestHeaderModifier" : "responseHeaderModifier";
      supportedKeys(filters[i], fpath, {"type", key});
      auto& slot = type == "RequestHeaderModifier" ? ref.request_headers : ref.response_headers;
      if (slot) throw FieldError{fpath + ".type", type + " appears twice"};
      slot = headerModifier(filters[i][key], fpath + "." + key);
    } else {
      throw FieldError{fpath + ".type", "'" + type +
                                            "' is not supported by weft on a backendRef (it "
                                            "supports RequestHeaderModifier, "
                                            "ResponseHeaderModifier there)"};
    }
  }
  return ref;
}

std::vector<HttpRouteMatch::Header> nameValueMatches(const YAML::Node& node,
                                                     const std::string& path, const char* what,
                                                     bool names_case_sensitive) {
  std::vector<HttpRouteMatch::Header> out;
  std::set<std::string> seen;
  YAML::Node list = sequence(node, path);
  for (size_t k = 0; k < list.size(); ++k) {
    std::string hpath = path + "[" + std::to_string(k) + "]";
    supportedKeys(list[k], hpath, {"type", "name", "value"});
    HttpRouteMatch::Header h;
    std::string type = str(list[k]["type"], hpath + ".type");
    if (!type.empty()) h.type = type;
    if (h.type != "Exact" && h.type != "RegularExpression") {
      throw FieldError{hpath + ".type", "'" + h.type + "' is not Exact or RegularExpression"};
    }
    h.name = str(list[k]["name"], hpath + ".name");
    h.value = str(list[k]["value"], hpath + ".value");
    if (h.name.empty()) throw FieldError{hpath + ".name", "is required"};
    if (!list[k]["value"]) throw FieldError{hpath + ".value", "is required"};
    std::string key = names_case_sensitive ? h.name : lowered(h.name);
    if (!seen.insert(key).second) {
      throw FieldError{hpath + ".name", std::string(what) + " '" + h.name + "' is matched twice"};
    }
    out.push_back(std::move(h));
  }
  return out;
}

RequestMirror requestMirror(const YAML::Node& node, const std::string& path) {
  if (!node) throw FieldError{path, "is required for this filter type"};
  supportedKeys(node, path, {"backendRef", "percent", "fraction"});
  RequestMirror m;
  if (!node["backendRef"]) throw FieldError{path + ".backendRef", "is required"};
  m.backend = backendRef(node["backendRef"], path + ".backendRef", false);
  if (node["percent"] && node["fraction"]) {
    throw FieldError{path + ".fraction", "only one of percent, fraction may be set"};
  }
  if (node["percent"]) {
    m.per_million =
        static_cast<uint32_t>(integer(node["percent"], path + ".percent", 0, 100)) * 10000;
  } else if (const YAML::Node f = node["fraction"]) {
    supportedKeys(f, path + ".fraction", {"numerator", "denominator"});
    int64_t denominator =
        f["denominator"] ? integer(f["denominator"], path + ".fraction.denominator", 1, 1000000)
                         : 100;
    int64_t numerator = integer(f["numerator"], path + ".fraction.numerator", 0, denominator);
    m.per_million = static_cast<uint32_t>(numerator * 1000000 / denominator);
  }
  return m;
}

HttpRoute readRoute(const YAML::Node& doc, ObjectMeta meta, HttpRoute::Kind kind, RuleReader rule) {
  HttpRoute route;
  route.kind = kind;
  route.meta = std::move(meta);
  const YAML::Node s = spec(doc);
  supportedKeys(s, "spec", {"parentRefs", "hostnames", "rules"});
  route.parent_refs = parentRefs(s);
  route.hostnames = routeHostnames(s);
  YAML::Node rules = sequence(s["rules"], "spec.rules");
  for (size_t i = 0; i < rules.size(); ++i) {
    route.rules.push_back(rule(rules[i], "spec.rules[" + std::to_string(i) + "]"));
  }
  return route;
}

HttpRouteRule ruleLists(const YAML::Node& r, const std::string& rpath, MatchReader match,
                        FilterReader filter) {
  HttpRouteRule rule;
  YAML::Node matches = sequence(r["matches"], rpath + ".matches");
  for (size_t j = 0; j < matches.size(); ++j) {
    rule.matches.push_back(match(matches[j], rpath + ".matches[" + std::to_string(j) + "]"));
  }
  YAML::Node filters = sequence(r["filters"], rpath + ".filters");
  for (size_t j = 0; j < filters.size(); ++j) {
    filter(filters[j], j, rpath + ".filters[" + std::to_string(j) + "]", rule);
  }
  YAML::Node refs = sequence(r["backendRefs"], rpath + ".backendRefs");
  for (size_t j = 0; j < refs.size(); ++j) {
    rule.backend_refs.push_back(
        backendRef(refs[j], rpath + ".backendRefs[" + std::to_string(j) + "]", true));
  }
  return rule;
}

bool sharedRuleFilter(const YAML::Node& node, const std::string& type, size_t index,
                      const std::string& fpath, HttpRouteRule& rule) {
  auto once = [&](auto& slot) {
    if (slot) throw FieldError{fpath + ".type", type + " appears twice in this rule"};
  };
  if (type == "RequestHeaderModifier") {
    supportedKeys(node, fpath, {"type", "requestHeaderModifier"});
    once(rule.request_headers);
    rule.request_headers =
        headerModifier(node["requestHeaderModifier"], fpath + ".requestHeaderModifier");
  } else if (type == "ResponseHeaderModifier") {
    supportedKeys(node, fpath, {"type", "responseHeaderModifier"});
    once(rule.response_headers);
    rule.response_headers =
        headerModifier(node["responseHeaderModifier"], fpath + ".responseHeaderModifier");
  } else if (type == "RequestMirror") {
    supportedKeys(node, fpath, {"type", "requestMirror"});
    rule.mirrors.push_back(requestMirror(node["requestMirror"], fpath + ".requestMirror"));
    rule.mirrors.back().filter_index = index;
  } else if (type.empty()) {
    throw FieldError{fpath + ".type", "is required"};
  } else {
    return false;
  }
  return true;
}

HeaderModifier headerModifier(const YAML::Node& node, const std::string& path) {
  if (!node) throw FieldError{path, "is required for this filter type"};
  supportedKeys(node, path, {"set", "add", "remove"});
  HeaderModifier m;
  std::set<std::string> seen;
  m.set = headerValues(node["set"], path + ".set", seen);
  m.add = headerValues(node["add"], path + ".add", seen);
  YAML::Node remove = sequence(node["remove"], path + ".remove");
  for (size_t i = 0; i < remove.size(); ++i) {
    std::string rpath = path + ".remove[" + std::to_string(i) + "]";
    std::string name = str(remove[i], rpath);
    if (!isHeaderName(name)) throw FieldError{rpath, "'" + name + "' is not a header name"};
    if (!seen.insert(lowered(name)).second) {
      throw FieldError{rpath, "header '" + name + "' is modified twice in this filter"};
    }
    m.remove.push_back(lowered(name));
  }
  return m;
}

}  // namespace weft::control
