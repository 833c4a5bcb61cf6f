#include "controlplane/xds/load_balancing.h"

#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>

namespace weft::control {

namespace cluster_v3 = envoy::config::cluster::v3;
namespace route_v3 = envoy::config::route::v3;
using google::protobuf::util::TimeUtil;

const DestinationPolicy* destinationPolicyFor(const ConfigSet& config, const Service& svc) {
  for (const auto& p : config.destination_policies) {
    if (p.meta.ns == svc.meta.ns && p.service == svc.meta.name) return &p;
  }
  return nullptr;
}

void setLoadBalancer(const DestinationPolicy& policy, bool hashing, cluster_v3::Cluster* cluster) {
  if (policy.load_balancer == "LEAST_REQUEST") {
    cluster->set_lb_policy(cluster_v3::Cluster::LEAST_REQUEST);
  } else if (policy.load_balancer == "RING_HASH" && hashing) {
    cluster->set_lb_policy(cluster_v3::Cluster::RING_HASH);
    if (policy.consistent_hash && policy.consistent_hash->minimum_ring_size) {
      cluster->mutable_ring_hash_lb_config()->mutable_minimum_ring_size()->set_value(
          *policy.consistent_hash->minimum_ring_size);
    }
  } else if (policy.load_balancer == "MAGLEV" && hashing) {
    cluster->set_lb_policy(cluster_v3::Cluster::MAGLEV);
    if (policy.consistent_hash && policy.consistent_hash->table_size) {
      cluster->mutable_maglev_lb_config()->mutable_table_size()->set_value(
          *policy.consistent_hash->table_size);
    }
  }
}

void addHashPolicy(const ConfigSet& config, const Service& svc, route_v3::RouteAction* action) {
  const DestinationPolicy* policy = destinationPolicyFor(config, svc);
  if (policy == nullptr || !policy->consistent_hash) return;
  const DestinationPolicy::ConsistentHash& hash = *policy->consistent_hash;
  route_v3::RouteAction::HashPolicy out;
  if (!hash.http_header_name.empty()) {
    out.mutable_header()->set_header_name(hash.http_header_name);
  } else if (hash.http_cookie) {
    auto* cookie = out.mutable_cookie();
    cookie->set_name(hash.http_cookie->name);
    cookie->set_path(hash.http_cookie->path);
    if (hash.http_cookie->ttl_ms) {
      *cookie->mutable_ttl() = TimeUtil::MillisecondsToDuration(*hash.http_cookie->ttl_ms);
    }
  } else {
    out.mutable_connection_properties()->set_source_ip(true);
  }
  // A split over backends that hash alike hashes once; backends that hash
  // on different things each add theirs (Envoy combines them).
  for (const auto& existing : action->hash_policy()) {
    if (google::protobuf::util::MessageDifferencer::Equals(existing, out)) return;
  }
  *action->add_hash_policy() = std::move(out);
}

}  // namespace weft::control
