#pragma once

// Cluster and ClusterLoadAssignment -> config::ClusterConfig: load balancing,
// circuit breakers, outlier detection, upstream protocol and TLS, hosts.

#include <string>
#include <vector>

#include "common/base/error_list.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "proxy/config/cluster_config.h"
#include "proxy/dns/dns_target.h"
#include "proxy/translate/translate_tls.h"

namespace weft::translate {

// `eds` supplies the endpoints of an EDS cluster (nullptr: none yet, or a
// STATIC cluster, whose load_assignment is inline). `dns` resolves the names
// of STRICT_DNS / LOGICAL_DNS clusters (nullptr: such a cluster is an
// error); names it has no answer for yet go to `missing`.
bool translateCluster(const envoy::config::cluster::v3::Cluster& proto, const std::string& path,
                      config::ClusterConfig* out, common::ErrorList& errors,
                      const envoy::config::endpoint::v3::ClusterLoadAssignment* eds = nullptr,
                      const SecretResolver* secrets = nullptr, dns::DnsLookup* dns = nullptr,
                      std::vector<std::string>* missing = nullptr);

bool translateLoadAssignment(const envoy::config::endpoint::v3::ClusterLoadAssignment& proto,
                             const std::string& path, std::vector<config::HostConfig>* hosts,
                             common::ErrorList& errors);

}  // namespace weft::translate
