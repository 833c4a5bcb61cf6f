#include "controlplane/xds/resources.h"

#include <cstdio>

namespace weft::control {

const char* typeUrl(ResourceType type) {
  switch (type) {
    case kCluster:
      return "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    case kEndpoint:
      return "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
    case kListener:
      return "type.googleapis.com/envoy.config.listener.v3.Listener";
    case kRoute:
      return "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
    case kSecret:
      return "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
    default:
      return "";
  }
}

ResourceType typeFromUrl(const std::string& url) {
  for (int t = 0; t < kResourceTypeCount; ++t) {
    if (url == typeUrl(static_cast<ResourceType>(t))) return static_cast<ResourceType>(t);
  }
  return kResourceTypeCount;
}

const char* typeShortName(ResourceType type) {
  switch (type) {
    case kCluster:
      return "CDS";
    case kEndpoint:
      return "EDS";
    case kListener:
      return "LDS";
    case kRoute:
      return "RDS";
    case kSecret:
      return "SDS";
    default:
      return "?";
  }
}

std::string contentHash(const std::string& bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(h));
  return out;
}

void ProxyResources::seal() {
  for (int t = 0; t < kResourceTypeCount; ++t) {
    std::string all;
    for (auto& [name, resource] : by_type[t]) {
      resource.version = contentHash(resource.any.value());
      all += name;
      all += resource.version;
    }
    version[t] = contentHash(all);
  }
}

}  // namespace weft::control
