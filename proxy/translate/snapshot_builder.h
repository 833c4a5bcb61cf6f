#pragma once

// A whole config::Snapshot from the bootstrap's static resources and the
// resources received over xDS.

#include <map>
#include <string>
#include <vector>

#include "common/base/error_list.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "proxy/config/snapshot.h"
#include "proxy/translate/runtime_factories.h"

namespace weft::translate {

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
                                  std::vector<std::string>* missing,
                                  const RuntimeFactories* runtime = nullptr);

// A static bootstrap's snapshot, checking that every referenced cluster exists.
// `runtime` opens the files access logs name and the exporters tracing names
// (nullptr: an access log or tracing is an error).
config::SnapshotPtr translateBootstrap(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                       common::ErrorList& errors,
                                       const RuntimeFactories* runtime = nullptr);

// The ads_config's gRPC cluster name, or "" with errors added.
std::string validateDynamicResources(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                     common::ErrorList& errors);

}  // namespace weft::translate
