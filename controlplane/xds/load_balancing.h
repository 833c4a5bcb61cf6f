#pragma once

// A DestinationPolicy's load balancing in Envoy's terms: the cluster's
// lb_policy (ROUND_ROBIN, LEAST_REQUEST, RING_HASH with its ring size, MAGLEV
// with its table size) and, for the hashing ones, the hash_policy every
// route action sending to that cluster carries (Envoy hashes on the route,
// the cluster only places the hash).

#include "controlplane/model/objects.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace weft::control {

// The DestinationPolicy of `svc`, or nullptr.
const DestinationPolicy* destinationPolicyFor(const ConfigSet& config, const Service& svc);

// `hashing`: the cluster carries HTTP (a TCP port's cluster is balanced round
// robin: nothing hashes a connection).
void setLoadBalancer(const DestinationPolicy& policy, bool hashing,
                     envoy::config::cluster::v3::Cluster* cluster);

// Adds `svc`'s consistent-hash policy to `action`, once however many of its
// backends share it; nothing when `svc` has none.
void addHashPolicy(const ConfigSet& config, const Service& svc,
                   envoy::config::route::v3::RouteAction* action);

}  // namespace weft::control
