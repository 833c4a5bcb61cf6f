#pragma once

// xDS resources for one proxy, by type, with a content version per type so a
// push happens only when what that proxy sees has changed.

#include <google/protobuf/any.pb.h>
#include <google/protobuf/message.h>

#include <array>
#include <map>
#include <string>

#include "mesh/xds_types.h"

namespace weft::control {

// The resource types are the mesh's one table (mesh/xds_types.h).
using ResourceType = mesh::XdsType;
using enum mesh::XdsType;

// The order a client expects on a full push: SDS, CDS, EDS, LDS, RDS (so
// that nothing references a resource it does not have yet).
inline constexpr std::array<ResourceType, kXdsTypeCount> kPushOrder = {kSds, kCds, kEds, kLds,
                                                                       kRds};

using mesh::typeFromUrl;
using mesh::typeUrl;

struct NamedResource {
  google::protobuf::Any any;
  std::string version;  // hash of this resource's bytes (delta xDS)
};

struct ProxyResources {
  std::array<std::map<std::string, NamedResource>, kXdsTypeCount> by_type;
  // The statused objects these resources carry ("HTTPRoute ns/name",
  // "DestinationPolicy ns/name", ...), by the type that carries them: what a
  // proxy must ACK of that type for the object to count as programmed there.
  std::map<std::string, ResourceType> applied;
  std::array<std::string, kXdsTypeCount> version;  // hash of the whole type
  // Fills in per-resource and per-type versions.
  void seal();
};

// Any.PackFrom with deterministic serialization: protobuf writes map
// entries (a Struct's fields, typed_extension_protocol_options) in hash-table
// order, which differs between two builds of the same message, and a
// resource's version is the hash of its bytes: without this, an unchanged
// listener would get a new version, be pushed again and drain its
// connections.
void packDeterministic(const google::protobuf::Message& message, google::protobuf::Any* any);

// FNV-1a, as hex: cheap, stable content hashes for versions.
std::string contentHash(const std::string& bytes);

}  // namespace weft::control
