#include "proxy/workload/workload_metadata.h"

#include <utility>

#include "mesh/node_metadata.h"

namespace weft::workload {
namespace {

// One short key per field, in this order on the wire.
struct Field {
  const char* key;
  std::string WorkloadMetadata::*member;
};
constexpr Field kFields[] = {
    {"w", &WorkloadMetadata::workload},
    {"n", &WorkloadMetadata::namespace_name},
    {"a", &WorkloadMetadata::app},
    {"v", &WorkloadMetadata::version},
    {"cs", &WorkloadMetadata::canonical_service},
    {"cr", &WorkloadMetadata::canonical_revision},
    {"c", &WorkloadMetadata::cluster},
    {"p", &WorkloadMetadata::principal},
};
constexpr char kServiceKey[] = "s";

bool allowedChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '/' || c == ':';
}

std::string nodeString(const envoy::config::core::v3::Node& node, const char* key) {
  auto it = node.metadata().fields().find(key);
  return it == node.metadata().fields().end() ? std::string() : it->second.string_value();
}

}  // namespace

bool validMetadataValue(std::string_view value) {
  if (value.empty() || value.size() > kMaxValueLength) return false;
  for (char c : value) {
    if (!allowedChar(c)) return false;
  }
  return true;
}

std::string encodePeerMetadata(const WorkloadMetadata& metadata, std::string_view service) {
  std::string out;
  auto add = [&out](const char* key, std::string_view value) {
    if (value.empty()) return;
    if (!out.empty()) out += ',';
    out += key;
    out += '=';
    out += value;
  };
  for (const Field& field : kFields) add(field.key, metadata.*field.member);
  add(kServiceKey, service);
  return out;
}

bool parsePeerMetadata(std::string_view header, WorkloadMetadata* metadata, std::string* service,
                       std::string* error) {
  WorkloadMetadata parsed;
  std::string parsed_service;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      *error = "'" + std::string(item.substr(0, 32)) + "' is not KEY=VALUE";
      return false;
    }
    std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (!validMetadataValue(value)) {
      *error = "the value of '" + std::string(key.substr(0, 8)) +
               "' is empty, longer than 253 or outside [A-Za-z0-9._/:-]";
      return false;
    }
    if (key == kServiceKey) {
      parsed_service = value;
      continue;
    }
    for (const Field& field : kFields) {
      if (key == field.key) parsed.*field.member = value;
    }
  }
  if (parsed.workload.empty() || parsed.namespace_name.empty()) {
    *error = "w (workload) and n (namespace) are required";
    return false;
  }
  *metadata = std::move(parsed);
  if (service != nullptr) *service = std::move(parsed_service);
  return true;
}

std::string_view serviceOfCluster(std::string_view cluster_name) {
  constexpr std::string_view kOutbound = "outbound|";
  if (cluster_name.substr(0, kOutbound.size()) != kOutbound) return {};
  size_t last = cluster_name.rfind('|');
  std::string_view host = cluster_name.substr(last + 1);
  return validMetadataValue(host) ? host : std::string_view();
}

WorkloadMetadata localMetadataFromNode(const envoy::config::core::v3::Node& node,
                                       const std::string& trust_domain) {
  namespace keys = mesh::node_metadata;
  WorkloadMetadata local;
  size_t dot = node.id().find('.');
  std::string pod = dot == std::string::npos ? node.id() : node.id().substr(0, dot);
  local.namespace_name = dot == std::string::npos ? "default" : node.id().substr(dot + 1);
  local.workload = nodeString(node, keys::kWorkloadName);
  if (local.workload.empty()) local.workload = pod;
  local.app = nodeString(node, keys::kApp);
  local.version = nodeString(node, keys::kVersion);
  local.canonical_service = nodeString(node, keys::kCanonicalService);
  if (local.canonical_service.empty()) {
    local.canonical_service = local.app.empty() ? local.workload : local.app;
  }
  local.canonical_revision = nodeString(node, keys::kCanonicalRevision);
  if (local.canonical_revision.empty()) {
    local.canonical_revision = local.version.empty() ? "latest" : local.version;
  }
  local.cluster = nodeString(node, keys::kClusterId);
  if (local.cluster.empty()) local.cluster = "Kubernetes";
  std::string account = nodeString(node, keys::kServiceAccount);
  local.principal = "spiffe://" + trust_domain + "/ns/" + local.namespace_name + "/sa/" +
                    (account.empty() ? "default" : account);
  // A value the peer would refuse is dropped here, so the header stays valid.
  for (const Field& field : kFields) {
    if (!validMetadataValue(local.*field.member)) (local.*field.member).clear();
  }
  return local;
}

}  // namespace weft::workload
