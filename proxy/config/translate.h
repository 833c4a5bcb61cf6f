#pragma once

// Envoy v3 resources -> weft's compiled snapshot. Every field weft does not
// implement is reported as an error naming its path; nothing is ignored.

#include <string>
#include <vector>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "proxy/config/snapshot.h"

namespace weft::config {

// Collects "path: problem" messages.
class ErrorList {
 public:
  void add(const std::string& path, const std::string& problem) {
    errors_.push_back(path + ": " + problem);
  }
  bool empty() const { return errors_.empty(); }
  const std::vector<std::string>& all() const { return errors_; }
  std::string joined() const;

 private:
  std::vector<std::string> errors_;
};

bool translateCluster(const envoy::config::cluster::v3::Cluster& proto, const std::string& path,
                      upstream::ClusterConfig* out, ErrorList& errors);

std::shared_ptr<const router::RouteTable> translateRouteConfiguration(
    const envoy::config::route::v3::RouteConfiguration& proto, const std::string& path,
    ErrorList& errors);

bool translateListener(const envoy::config::listener::v3::Listener& proto, const std::string& path,
                       ListenerConfig* out, ErrorList& errors);

// Builds a whole snapshot from a static bootstrap, checking that every
// referenced cluster exists.
SnapshotPtr translateBootstrap(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                               ErrorList& errors);

}  // namespace weft::config
