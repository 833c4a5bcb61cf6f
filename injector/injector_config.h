#pragma once

// What the injector adds to a pod: images, addresses, ports, resources. Read
// from a YAML file (the Helm chart's ConfigMap) so that every replica of the
// webhook and `weftctl inject` produce the same mutation.

#include <cstdint>
#include <string>
#include <vector>

#include "mesh/sidecar_env.h"

namespace weft::injector {

struct ResourceQuantities {
  std::string cpu;
  std::string memory;
};

struct InjectorConfig {
  std::string proxy_image = "ghcr.io/weft-mesh/weft-proxy:0.1.0";
  std::string image_pull_policy = "IfNotPresent";
  // Where the injected proxy finds weft-control (host:port; a Service name
  // is resolved once by the proxy at start).
  std::string xds_address = "weft-control.weft-system.svc:15010";
  std::string ca_address = "weft-control.weft-system.svc:15012";
  std::string trust_domain = "cluster.local";
  // Native sidecar (an init container with restartPolicy: Always, Kubernetes
  // >= 1.29); false injects a regular container first in the list.
  bool native_sidecar = true;
  // Point the app's httpGet / tcpSocket / gRPC probes at the proxy's status
  // port, which performs them (probe_rewrite.h); a pod's annotation wins.
  bool rewrite_app_probes = true;
  int64_t proxy_uid = 1337;
  uint16_t outbound_port = mesh::sidecar_env::kDefaultOutboundPort;
  uint16_t inbound_port = mesh::sidecar_env::kDefaultInboundPort;
  uint16_t admin_port = mesh::sidecar_env::kDefaultAdminPort;    // loopback only
  uint16_t status_port = mesh::sidecar_env::kDefaultStatusPort;  // /ready and /stats/prometheus for
                                                                 // kubelet and Prometheus
  int concurrency = 2;
  ResourceQuantities requests{"100m", "128Mi"};
  ResourceQuantities limits{"2", "1Gi"};
  // Added to every pod's exclusions (annotations add more).
  std::vector<uint16_t> exclude_inbound_ports;
  std::vector<uint16_t> exclude_outbound_ports;
  std::vector<std::string> exclude_outbound_cidrs;
};

// Parses the YAML config text; unknown keys and wrong types are errors naming
// the key. Missing keys keep their defaults.
bool parseInjectorConfig(const std::string& yaml, InjectorConfig* config, std::string* error);

}  // namespace weft::injector
