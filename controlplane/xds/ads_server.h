#pragma once

// The Aggregated Discovery Service (envoy.service.discovery.v3), state of the
// world and delta, on gRPC's callback API: no thread per stream, so a
// thousand proxies cost a thousand small objects, not a thousand threads.

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controlplane/xds/cache.h"
#include "envoy/service/discovery/v3/discovery.grpc.pb.h"

namespace weft::control {

class ControlMetrics;

// What /debug/syncz and weftctl proxy-status show for one connected proxy.
struct ProxySyncStatus {
  std::string node_id;
  std::string protocol;       // "sotw" or "delta"
  std::string admin_address;  // node metadata ADMIN_ADDRESS, when the proxy sends it
  std::array<std::string, kXdsTypeCount> sent;
  std::array<std::string, kXdsTypeCount> acked;
  std::array<std::string, kXdsTypeCount> nacked_error;
  // What the proxy should hold now (the latest translation for it): the
  // objects it carries, for route and policy status.
  std::shared_ptr<const ProxyResources> resources;
};

class StreamRegistry {
 public:
  class Entry {
   public:
    virtual ~Entry() = default;
    virtual ProxySyncStatus status() const = 0;
  };
  void add(Entry* entry);
  void remove(Entry* entry);
  std::vector<ProxySyncStatus> snapshot() const;
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::vector<Entry*> entries_;
};

class AdsService final
    : public envoy::service::discovery::v3::AggregatedDiscoveryService::CallbackService {
 public:
  AdsService(XdsCache& cache, StreamRegistry& registry, ControlMetrics& metrics)
      : cache_(cache), registry_(registry), metrics_(metrics) {}

  grpc::ServerBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                          envoy::service::discovery::v3::DiscoveryResponse>*
  StreamAggregatedResources(grpc::CallbackServerContext* context) override;

  grpc::ServerBidiReactor<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                          envoy::service::discovery::v3::DeltaDiscoveryResponse>*
  DeltaAggregatedResources(grpc::CallbackServerContext* context) override;

 private:
  XdsCache& cache_;
  StreamRegistry& registry_;
  ControlMetrics& metrics_;
};

}  // namespace weft::control
