#pragma once

// The proxy's whole configuration at one instant, immutable once built.
// Workers hold a shared_ptr to the current snapshot; a new config is a new
// snapshot swapped in by the main thread, so the request path takes no locks.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proxy/network/address.h"
#include "proxy/router/route_table.h"
#include "proxy/upstream/cluster_config.h"

namespace weft::config {

enum class CodecType { kAuto, kHttp1, kHttp2 };

struct HttpListenerSettings {
  std::shared_ptr<const router::RouteTable> routes;
  CodecType codec = CodecType::kAuto;
  size_t max_request_headers_bytes = 60 * 1024;
  std::string stat_prefix;
};

struct ListenerConfig {
  std::string name;
  network::Address address;
  bool is_http = true;
  HttpListenerSettings http;
  std::string tcp_cluster;  // when !is_http
  uint32_t buffer_limit_bytes = 1024 * 1024;
};

struct Snapshot {
  std::vector<ListenerConfig> listeners;
  std::map<std::string, upstream::ClusterConfigPtr> clusters;
  std::string admin_address = "127.0.0.1";
  uint16_t admin_port = 15000;
  std::string node_id;
  std::string config_dump_json;  // what /config_dump serves

  const upstream::ClusterConfig* cluster(const std::string& name) const {
    auto it = clusters.find(name);
    return it == clusters.end() ? nullptr : it->second.get();
  }
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace weft::config
