#include "proxy/translate/snapshot_builder.h"

#include <google/protobuf/util/json_util.h>

#include <map>
#include <set>

#include "proxy/translate/translate_cluster.h"
#include "proxy/translate/translate_listener.h"
#include "proxy/translate/translate_route.h"
#include "proxy/translate/translate_util.h"

namespace weft::translate {

namespace cluster_v3 = envoy::config::cluster::v3;
namespace listener_v3 = envoy::config::listener::v3;

std::string validateDynamicResources(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                     common::ErrorList& errors) {
  const auto& dr = bootstrap.dynamic_resources();
  const auto& ads = dr.ads_config();
  if (!dr.has_ads_config()) {
    errors.add("dynamic_resources.ads_config", "is required (weft speaks aggregated xDS)");
    return "";
  }
  if (ads.api_type() != envoy::config::core::v3::ApiConfigSource::GRPC &&
      ads.api_type() != envoy::config::core::v3::ApiConfigSource::DELTA_GRPC) {
    errors.add("dynamic_resources.ads_config.api_type", "must be GRPC or DELTA_GRPC");
  }
  if (ads.grpc_services_size() != 1 || !ads.grpc_services(0).has_envoy_grpc()) {
    errors.add("dynamic_resources.ads_config.grpc_services",
               "exactly one envoy_grpc service naming a static cluster is required");
    return "";
  }
  for (const auto* source : {&dr.lds_config(), &dr.cds_config()}) {
    bool set = source == &dr.lds_config() ? dr.has_lds_config() : dr.has_cds_config();
    if (set && !source->has_ads()) {
      errors.add(source == &dr.lds_config() ? "dynamic_resources.lds_config"
                                            : "dynamic_resources.cds_config",
                 "only ads: {} is supported");
    }
  }
  return ads.grpc_services(0).envoy_grpc().cluster_name();
}

config::SnapshotPtr buildSnapshot(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                  const DynamicResources* dynamic, common::ErrorList& errors,
                                  std::vector<std::string>* missing,
                                  const RuntimeFactories* runtime) {
  auto snapshot = std::make_shared<config::Snapshot>();
  snapshot->node_id = bootstrap.node().id();
  if (bootstrap.has_admin()) {
    network::Address admin;
    if (addressFrom(bootstrap.admin().address(), "admin.address", &admin, errors)) {
      snapshot->admin_address = admin.ip();
      snapshot->admin_port = admin.port();
    }
  }
  if (bootstrap.has_dynamic_resources()) {
    std::string xds_cluster = validateDynamicResources(bootstrap, errors);
    bool found = false;
    for (const auto& c : bootstrap.static_resources().clusters()) found |= c.name() == xds_cluster;
    if (!xds_cluster.empty() && !found) {
      errors.add("dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name",
                 "'" + xds_cluster + "' is not a static cluster");
    }
  }
  const auto& sr = bootstrap.static_resources();
  // Secrets: the bootstrap's, then those received (SDS) or made here (the
  // workload certificate). A static reference must resolve; a dynamic one
  // warms until its secret arrives.
  SecretResolver secrets = [&](const std::string& name, const std::string& where)
      -> const envoy::extensions::transport_sockets::tls::v3::Secret* {
    for (const auto& secret : sr.secrets()) {
      if (secret.name() == name) return &secret;
    }
    if (dynamic != nullptr) {
      auto it = dynamic->secrets.find(name);
      if (it != dynamic->secrets.end()) return &it->second;
      if (missing != nullptr) missing->push_back("Secret " + name);
      return nullptr;
    }
    errors.add(where, "unknown secret '" + name + "'");
    return nullptr;
  };
  dns::DnsLookup* dns = runtime != nullptr ? runtime->dns : nullptr;
  for (int i = 0; i < sr.clusters_size(); ++i) {
    auto cluster = std::make_shared<config::ClusterConfig>();
    std::string path = "static_resources.clusters[" + std::to_string(i) + "]";
    if (!translateCluster(sr.clusters(i), path, cluster.get(), errors, nullptr, &secrets, dns,
                          missing)) {
      continue;
    }
    if (snapshot->clusters.count(cluster->name)) {
      errors.add(path + ".name", "duplicate cluster name '" + cluster->name + "'");
      continue;
    }
    snapshot->clusters[cluster->name] = cluster;
  }
  size_t static_clusters = snapshot->clusters.size();
  if (dynamic != nullptr) {
    for (const auto& [name, proto] : dynamic->clusters) {
      auto cluster = std::make_shared<config::ClusterConfig>();
      const envoy::config::endpoint::v3::ClusterLoadAssignment* eds = nullptr;
      if (proto.type() == cluster_v3::Cluster::EDS) {
        std::string eds_name = proto.eds_cluster_config().service_name().empty()
                                   ? proto.name()
                                   : proto.eds_cluster_config().service_name();
        auto it = dynamic->endpoints.find(eds_name);
        if (it != dynamic->endpoints.end()) {
          eds = &it->second;
        } else if (missing != nullptr) {
          missing->push_back("ClusterLoadAssignment " + eds_name);
        }
      }
      if (!translateCluster(proto, "Cluster '" + name + "'", cluster.get(), errors, eds, &secrets,
                            dns, missing)) {
        continue;
      }
      if (snapshot->clusters.count(name)) {
        errors.add("Cluster '" + name + "'", "has the name of a static cluster");
        continue;
      }
      snapshot->clusters[name] = cluster;
    }
  }

  // RDS: route tables compiled once each, shared by every listener using them.
  std::map<std::string, std::shared_ptr<const config::RouteTable>> compiled_routes;
  RouteResolver resolve =
      [&](const std::string& name) -> std::shared_ptr<const config::RouteTable> {
    auto done = compiled_routes.find(name);
    if (done != compiled_routes.end()) return done->second;
    auto it = dynamic->routes.find(name);
    if (it == dynamic->routes.end()) {
      if (missing != nullptr) missing->push_back("RouteConfiguration " + name);
      return nullptr;
    }
    auto table =
        translateRouteConfiguration(it->second, "RouteConfiguration '" + name + "'", errors);
    compiled_routes[name] = table;
    return table;
  };

  std::set<std::string> listener_names;
  auto add_listener = [&](const listener_v3::Listener& proto, const std::string& path,
                          bool is_static) {
    config::ListenerConfig listener;
    if (!translateListener(proto, path, &listener, errors, dynamic ? &resolve : nullptr, &secrets,
                           runtime)) {
      return;
    }
    if (!listener_names.insert(listener.name).second) {
      errors.add(path + ".name", "duplicate listener name '" + listener.name + "'");
      return;
    }
    // A static configuration must be whole: every referenced cluster exists
    // (Envoy's validate_clusters). Dynamic routes may name clusters that come
    // later: those requests get 503 until then, as with Envoy.
    auto require = [&](const std::string& cluster, const std::string& where) {
      if (is_static && !cluster.empty() && snapshot->clusters.count(cluster) == 0 &&
          sr.clusters_size() == static_cast<int>(static_clusters)) {
        errors.add(where, "unknown cluster '" + cluster + "'");
      }
    };
    auto check_chain = [&](const config::FilterChainConfig& chain, const std::string& cpath) {
      if (chain.is_http && chain.http.routes && chain.http.rds_name.empty()) {
        const auto& vhs = chain.http.routes->virtualHosts();
        for (size_t v = 0; v < vhs.size(); ++v) {
          for (size_t r = 0; r < vhs[v].routes.size(); ++r) {
            const auto& route = vhs[v].routes[r];
            std::string rpath = cpath + ".filters[0].typed_config.route_config.virtual_hosts[" +
                                std::to_string(v) + "].routes[" + std::to_string(r) + "]";
            require(route.cluster, rpath + ".route.cluster");
            for (const auto& w : route.weighted_clusters) {
              require(w.cluster, rpath + ".route.weighted_clusters");
            }
            for (size_t m = 0; m < route.mirrors.size(); ++m) {
              require(route.mirrors[m].cluster,
                      rpath + ".route.request_mirror_policies[" + std::to_string(m) + "].cluster");
            }
          }
        }
      } else if (!chain.is_http) {
        require(chain.tcp_cluster, cpath + " tcp_proxy.cluster");
      }
      if (chain.is_http && chain.http.tracing) {
        require(chain.http.tracing->collector_cluster,
                cpath +
                    ".filters[0].typed_config.tracing.provider.typed_config.grpc_service."
                    "envoy_grpc.cluster_name");
      }
    };
    for (size_t c = 0; c < listener.filter_chains.size(); ++c) {
      check_chain(listener.filter_chains[c], path + ".filter_chains[" + std::to_string(c) + "]");
    }
    if (listener.default_filter_chain) {
      check_chain(*listener.default_filter_chain, path + ".default_filter_chain");
    }
    snapshot->listeners.push_back(std::move(listener));
  };
  for (int i = 0; i < sr.listeners_size(); ++i) {
    add_listener(sr.listeners(i), "static_resources.listeners[" + std::to_string(i) + "]", true);
  }
  if (dynamic != nullptr) {
    for (const auto& [name, proto] : dynamic->listeners) {
      add_listener(proto, "Listener '" + name + "'", false);
    }
  }
  if (!errors.empty()) return nullptr;
  for (auto& [name, table] : compiled_routes) {
    if (table) snapshot->route_tables[name] = table;
  }
  return snapshot;
}

config::SnapshotPtr translateBootstrap(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                       common::ErrorList& errors, const RuntimeFactories* runtime) {
  DynamicResources none;
  auto snapshot = buildSnapshot(bootstrap, bootstrap.has_dynamic_resources() ? &none : nullptr,
                                errors, nullptr, runtime);
  if (snapshot == nullptr) return nullptr;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  auto mutable_snapshot = std::const_pointer_cast<config::Snapshot>(snapshot);
  google::protobuf::util::MessageToJsonString(bootstrap, &mutable_snapshot->config_dump_json,
                                              print);
  return snapshot;
}

}  // namespace weft::translate
