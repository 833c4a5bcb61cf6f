#include "injector/injector_config.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>

#include "common/yaml/yaml_documents.h"

namespace weft::injector {
namespace {

struct FieldError {
  std::string message;
};

std::string scalar(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) throw FieldError{key + ": must be a string"};
  return node.as<std::string>();
}

int64_t integer(const YAML::Node& node, const std::string& key, int64_t min, int64_t max) {
  std::string text = scalar(node, key);
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < min || value > max) {
    throw FieldError{key + ": '" + text + "' is not an integer in [" + std::to_string(min) + ", " +
                     std::to_string(max) + "]"};
  }
  return value;
}

bool boolean(const YAML::Node& node, const std::string& key) {
  std::string text = scalar(node, key);
  if (text == "true") return true;
  if (text == "false") return false;
  throw FieldError{key + ": '" + text + "' is not true or false"};
}

std::vector<uint16_t> ports(const YAML::Node& node, const std::string& key) {
  if (!node.IsSequence()) throw FieldError{key + ": must be a list of ports"};
  std::vector<uint16_t> out;
  for (size_t i = 0; i < node.size(); ++i) {
    out.push_back(
        static_cast<uint16_t>(integer(node[i], key + "[" + std::to_string(i) + "]", 1, 65535)));
  }
  return out;
}

void quantities(const YAML::Node& node, const std::string& key, ResourceQuantities* out) {
  if (!node.IsMap()) throw FieldError{key + ": must be a map with cpu and memory"};
  for (const auto& entry : node) {
    std::string name = entry.first.as<std::string>();
    if (name == "cpu") {
      out->cpu = scalar(entry.second, key + ".cpu");
    } else if (name == "memory") {
      out->memory = scalar(entry.second, key + ".memory");
    } else {
      throw FieldError{key + "." + name + ": unknown key (cpu, memory)"};
    }
  }
}

}  // namespace

bool parseInjectorConfig(const std::string& yaml, InjectorConfig* config, std::string* error) {
  std::vector<YAML::Node> documents;
  if (!common::loadYamlDocuments(yaml, &documents, error)) return false;
  if (documents.size() > 1) {
    *error =
        "the injector config must be one YAML document, not " + std::to_string(documents.size());
    return false;
  }
  YAML::Node root = documents.empty() ? YAML::Node() : documents[0];
  if (root.IsNull()) return true;
  if (!root.IsMap()) {
    *error = "the injector config must be a map";
    return false;
  }
  InjectorConfig parsed = *config;
  using Setter = std::function<void(const YAML::Node&, const std::string&)>;
  const std::map<std::string, Setter> setters = {
      {"proxyImage", [&](auto& n, auto& k) { parsed.proxy_image = scalar(n, k); }},
      {"imagePullPolicy", [&](auto& n, auto& k) { parsed.image_pull_policy = scalar(n, k); }},
      {"xdsAddress", [&](auto& n, auto& k) { parsed.xds_address = scalar(n, k); }},
      {"caAddress", [&](auto& n, auto& k) { parsed.ca_address = scalar(n, k); }},
      {"trustDomain", [&](auto& n, auto& k) { parsed.trust_domain = scalar(n, k); }},
      {"nativeSidecar", [&](auto& n, auto& k) { parsed.native_sidecar = boolean(n, k); }},
      {"rewriteAppProbes", [&](auto& n, auto& k) { parsed.rewrite_app_probes = boolean(n, k); }},
      {"proxyUID", [&](auto& n, auto& k) { parsed.proxy_uid = integer(n, k, 1, 2147483647); }},
      {"outboundPort",
       [&](auto& n, auto& k) {
         parsed.outbound_port = static_cast<uint16_t>(integer(n, k, 1, 65535));
       }},
      {"inboundPort",
       [&](auto& n, auto& k) {
         parsed.inbound_port = static_cast<uint16_t>(integer(n, k, 1, 65535));
       }},
      {"adminPort",
       [&](auto& n, auto& k) {
         parsed.admin_port = static_cast<uint16_t>(integer(n, k, 1, 65535));
       }},
      {"statusPort",
       [&](auto& n, auto& k) {
         parsed.status_port = static_cast<uint16_t>(integer(n, k, 1, 65535));
       }},
      {"concurrency",
       [&](auto& n, auto& k) { parsed.concurrency = static_cast<int>(integer(n, k, 1, 64)); }},
      {"resources",
       [&](auto& n, auto& k) {
         if (!n.IsMap()) throw FieldError{k + ": must be a map with requests and limits"};
         for (const auto& entry : n) {
           std::string name = entry.first.template as<std::string>();
           if (name == "requests") {
             quantities(entry.second, k + ".requests", &parsed.requests);
           } else if (name == "limits") {
             quantities(entry.second, k + ".limits", &parsed.limits);
           } else {
             throw FieldError{k + "." + name + ": unknown key (requests, limits)"};
           }
         }
       }},
      {"excludeInboundPorts",
       [&](auto& n, auto& k) { parsed.exclude_inbound_ports = ports(n, k); }},
      {"excludeOutboundPorts",
       [&](auto& n, auto& k) { parsed.exclude_outbound_ports = ports(n, k); }},
      {"excludeOutboundCIDRs",
       [&](auto& n, auto& k) {
         if (!n.IsSequence()) throw FieldError{k + ": must be a list of CIDRs"};
         parsed.exclude_outbound_cidrs.clear();
         for (size_t i = 0; i < n.size(); ++i) {
           parsed.exclude_outbound_cidrs.push_back(scalar(n[i], k + "[" + std::to_string(i) + "]"));
         }
       }},
  };
  try {
    for (const auto& entry : root) {
      std::string key = entry.first.as<std::string>();
      auto it = setters.find(key);
      if (it == setters.end()) throw FieldError{key + ": unknown key"};
      it->second(entry.second, key);
    }
  } catch (const FieldError& e) {
    *error = e.message;
    return false;
  }
  *config = parsed;
  return true;
}

}  // namespace weft::injector
