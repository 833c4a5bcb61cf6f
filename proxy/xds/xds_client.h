#pragma once

// The proxy's xDS client: one aggregated (ADS) state-of-the-world stream to
// the control plane. Subscribes to CDS and LDS, then to the EDS and RDS names
// they reference. Every response is translated once, into the snapshot it
// would produce: a bad one is NACKed with the reason and the last good
// configuration keeps serving; a good one's snapshot is the one applied (no
// second translation). Reconnects with jittered backoff, and serves its last
// configuration meanwhile.

#include <array>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "common/event/dispatcher.h"
#include "common/grpc/grpc_stream.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "mesh/xds_types.h"
#include "proxy/translate/snapshot_builder.h"
#include "proxy/translate/translate_listener.h"

namespace weft::xds {

// The resource types are the mesh's one table (mesh/xds_types.h).
using XdsType = mesh::XdsType;
using enum mesh::XdsType;

struct TypeStatus {
  std::string version;  // in service
  std::string rejected_version;
  std::string rejected_error;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
};

class XdsClient {
 public:
  // The snapshot `candidate` translates to, or nullptr with `error` set (the
  // NACK's reason); references still missing (warming) go to `missing`.
  using Builder =
      std::function<config::SnapshotPtr(const translate::DynamicResources& candidate,
                                        std::vector<std::string>* missing, std::string* error)>;
  // Called with the accepted resources' snapshot once nothing they reference
  // is missing (or the warming timeout passed).
  using OnUpdate = std::function<void(config::SnapshotPtr snapshot,
                                      const translate::DynamicResources& resources)>;

  XdsClient(event::Dispatcher& dispatcher, envoy::config::core::v3::Node node,
            network::Address server, std::string authority, Builder builder, OnUpdate on_update);
  ~XdsClient();

  void start();
  // A secret made here rather than received (the CA-issued workload
  // certificate): merged with the SDS ones, never asked for.
  void setLocalSecret(const envoy::extensions::transport_sockets::tls::v3::Secret& secret);
  // Translates the accepted resources again (what they build from changed
  // outside xDS: a DNS cluster's answer): the configuration in service is
  // rebuilt and applied, and one warming is published once nothing it
  // references is missing.
  void rebuild();
  const TypeStatus& status(XdsType type) const { return status_[type]; }
  const translate::DynamicResources& resources() const { return resources_; }
  bool connected() const { return stream_ && stream_->open(); }

 private:
  void connect();
  void onMessage(std::string_view bytes);
  void onClose(int status, const std::string& message);
  void sendRequest(XdsType type, const std::string& nonce, const std::string* error);
  void handleResponse(const envoy::service::discovery::v3::DiscoveryResponse& response);
  void updateSubscriptions();
  void maybePublish(bool force);

  event::Dispatcher& dispatcher_;
  envoy::config::core::v3::Node node_;
  network::Address server_;
  std::string authority_;
  Builder builder_;
  OnUpdate on_update_;
  std::unique_ptr<grpc::GrpcStream> stream_;
  event::Timer retry_timer_;
  event::Timer warming_timer_;
  uint64_t backoff_ms_ = 250;
  std::mt19937_64 rng_{std::random_device{}()};
  bool node_sent_ = false;

  translate::DynamicResources resources_;
  // resources_' snapshot, built when they were accepted and not published
  // yet (warming); nullptr once published.
  config::SnapshotPtr unpublished_;
  std::vector<std::string> missing_;
  translate::DynamicResources published_;  // what the configuration in service was built from
  bool published_once_ = false;
  std::array<TypeStatus, kXdsTypeCount> status_;
  std::array<std::string, kXdsTypeCount> nonce_;
  std::array<bool, kXdsTypeCount> requested_{};
  std::set<std::string> eds_names_;
  std::set<std::string> rds_names_;
  std::set<std::string> sds_names_;
  std::map<std::string, envoy::extensions::transport_sockets::tls::v3::Secret> local_secrets_;
};

}  // namespace weft::xds
