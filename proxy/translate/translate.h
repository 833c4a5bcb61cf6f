#pragma once

// Envoy v3 resources -> weft's compiled snapshot. Every field weft does not
// implement is reported as an error naming its path; nothing is ignored.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/base/error_list.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "proxy/config/snapshot.h"
#include "proxy/translate/translate_tls.h"

namespace weft::translate {

// Envoy's StringMatcher and HeaderMatcher, compiled (routes and RBAC).
bool stringMatchFrom(const envoy::type::matcher::v3::StringMatcher& proto, const std::string& path,
                     matcher::StringMatch* out, common::ErrorList& errors);
bool headerMatchFrom(const envoy::config::route::v3::HeaderMatcher& proto, const std::string& path,
                     matcher::HeaderMatch* out, common::ErrorList& errors);

// `eds` supplies the endpoints of an EDS cluster (nullptr: none yet, or a
// STATIC cluster, whose load_assignment is inline).
bool translateCluster(const envoy::config::cluster::v3::Cluster& proto, const std::string& path,
                      config::ClusterConfig* out, common::ErrorList& errors,
                      const envoy::config::endpoint::v3::ClusterLoadAssignment* eds = nullptr,
                      const SecretResolver* secrets = nullptr);

bool translateLoadAssignment(const envoy::config::endpoint::v3::ClusterLoadAssignment& proto,
                             const std::string& path, std::vector<config::HostConfig>* hosts,
                             common::ErrorList& errors);

// Resolves an HttpConnectionManager's `rds.route_config_name` (nullptr: not
// received yet). Without a resolver, `rds` is an error (static bootstrap).
using RouteResolver =
    std::function<std::shared_ptr<const config::RouteTable>(const std::string& name)>;

std::shared_ptr<const config::RouteTable> translateRouteConfiguration(
    const envoy::config::route::v3::RouteConfiguration& proto, const std::string& path,
    common::ErrorList& errors);

bool translateListener(const envoy::config::listener::v3::Listener& proto, const std::string& path,
                       config::ListenerConfig* out, common::ErrorList& errors,
                       const RouteResolver* routes = nullptr,
                       const SecretResolver* secrets = nullptr);

// The route names a listener's HTTP connection managers ask RDS for.
std::vector<std::string> rdsNames(const envoy::config::listener::v3::Listener& proto);

// Resources received over xDS, by name.
struct DynamicResources {
  std::map<std::string, envoy::config::listener::v3::Listener> listeners;
  std::map<std::string, envoy::config::cluster::v3::Cluster> clusters;
  std::map<std::string, envoy::config::route::v3::RouteConfiguration> routes;
  std::map<std::string, envoy::config::endpoint::v3::ClusterLoadAssignment> endpoints;
  std::map<std::string, envoy::extensions::transport_sockets::tls::v3::Secret> secrets;
};

// Builds a whole snapshot: the bootstrap's static resources plus `dynamic`
// (nullptr for a purely static bootstrap). References not received yet (an
// RDS route table, an EDS assignment) are listed in `missing` (warming).
config::SnapshotPtr buildSnapshot(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                  const DynamicResources* dynamic, common::ErrorList& errors,
                                  std::vector<std::string>* missing);

// A static bootstrap's snapshot, checking that every referenced cluster exists.
config::SnapshotPtr translateBootstrap(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                       common::ErrorList& errors);

// The ads_config's gRPC cluster name, or "" with errors added.
std::string validateDynamicResources(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                     common::ErrorList& errors);

}  // namespace weft::translate
