#include "controlplane/xds/translator.h"
#include "controlplane/xds/access_log_translation.h"

#include <cstdlib>

#include "controlplane/xds/api_listener_translation.h"
#include "controlplane/xds/inbound_translation.h"
#include "controlplane/xds/interception_translation.h"
#include "controlplane/xds/mtls.h"
#include "controlplane/xds/outbound_translation.h"
#include "controlplane/xds/resource_builders.h"
#include "controlplane/xds/tracing_translation.h"
#include "mesh/names.h"
#include "mesh/node_metadata.h"

namespace weft::control {

namespace core_v3 = envoy::config::core::v3;

namespace {

std::string metadataString(const core_v3::Node& node, const std::string& key) {
  const auto& fields = node.metadata().fields();
  auto it = fields.find(key);
  if (it == fields.end()) return "";
  if (it->second.has_string_value()) return it->second.string_value();
  if (it->second.has_number_value()) {
    return std::to_string(static_cast<int64_t>(it->second.number_value()));
  }
  return "";
}

}  // namespace

ProxyIdentity ProxyIdentity::fromNode(const core_v3::Node& node) {
  ProxyIdentity id;
  id.node_id = node.id();
  size_t dot = node.id().find('.');
  id.pod = node.id().substr(0, dot);
  if (dot != std::string::npos) id.ns = node.id().substr(dot + 1);
  std::string sa = metadataString(node, mesh::node_metadata::kServiceAccount);
  if (!sa.empty()) id.service_account = sa;
  std::string ip = metadataString(node, mesh::node_metadata::kOutboundIp);
  if (!ip.empty()) id.outbound_ip = ip;
  std::string port = metadataString(node, mesh::node_metadata::kOutboundPort);
  if (!port.empty()) id.outbound_port = static_cast<uint16_t>(std::atoi(port.c_str()));
  std::string app = metadataString(node, mesh::node_metadata::kAppIp);
  if (!app.empty()) id.app_ip = app;
  id.interception = !metadataString(node, mesh::node_metadata::kInterception).empty();
  std::string inbound = metadataString(node, mesh::node_metadata::kInboundPort);
  if (!inbound.empty()) id.inbound_port = static_cast<uint16_t>(std::atoi(inbound.c_str()));
  // As the sidecar labels its own metrics: canonical service, else app,
  // else the workload, else the pod.
  for (const char* key : {mesh::node_metadata::kCanonicalService, mesh::node_metadata::kApp,
                          mesh::node_metadata::kWorkloadName}) {
    if (id.canonical_service.empty()) id.canonical_service = metadataString(node, key);
  }
  return id;
}

std::string ProxyIdentity::cacheKey() const {
  return pod + "|" + ns + "|" + service_account + "|" + outbound_ip + "|" +
         std::to_string(outbound_port) + "|" + app_ip + "|" + (interception ? "i" : "e") +
         std::to_string(inbound_port) + "|" + canonical_service;
}

std::string outboundClusterName(const Service& svc, uint16_t port) {
  return "outbound|" + std::to_string(port) + "||" + fqdn(svc);
}

std::shared_ptr<const ProxyResources> translateForProxy(
    const ConfigSet& config, const ProxyIdentity& proxy,
    const std::set<std::string>& api_listener_names) {
  auto out = std::make_shared<ProxyResources>();
  addOutbound(config, proxy, !api_listener_names.empty(), *out);
  if (proxy.interception) {
    addServiceListeners(config, proxy, *out);
  } else {
    addOutboundListener(proxy, *out);
  }
  addInbound(config, proxy, *out);
  if (proxy.interception) addInboundPassthrough(config, proxy, *out);
  if (meshTlsEnabled(config)) add(*out, kSds, mesh::kTrustBundleSecret, trustBundleSecret(config));
  addAccessLogs(config.mesh.accessLogModeFor(proxy.ns), *out);  // before the API listeners
  addTracing(config, proxy, *out);
  addApiListeners(config, api_listener_names, *out);
  // The MeshConfig shapes every proxy; its mTLS mode, access logs and
  // tracing ride on the listeners.
  if (!config.mesh.meta.name.empty()) {
    out->applied["MeshConfig " + config.mesh.meta.ns + "/" + config.mesh.meta.name] = kLds;
  }
  out->seal();
  return out;
}

}  // namespace weft::control
