#pragma once

// xDS resources for one proxy, by type, with a content version per type so a
// push happens only when what that proxy sees has changed.

#include <google/protobuf/any.pb.h>

#include <array>
#include <map>
#include <string>

namespace weft::control {

enum ResourceType {
  kCluster = 0,
  kEndpoint = 1,
  kListener = 2,
  kRoute = 3,
  kSecret = 4,
  kResourceTypeCount = 5
};

// The order a client expects on a full push: SDS, CDS, EDS, LDS, RDS (so
// that nothing references a resource it does not have yet).
inline constexpr std::array<ResourceType, kResourceTypeCount> kPushOrder = {
    kSecret, kCluster, kEndpoint, kListener, kRoute};

const char* typeUrl(ResourceType type);
// kResourceTypeCount when `url` is not a type weft serves.
ResourceType typeFromUrl(const std::string& url);
const char* typeShortName(ResourceType type);  // "CDS", "EDS", "LDS", "RDS", "SDS"

struct NamedResource {
  google::protobuf::Any any;
  std::string version;  // hash of this resource's bytes (delta xDS)
};

struct ProxyResources {
  std::array<std::map<std::string, NamedResource>, kResourceTypeCount> by_type;
  std::array<std::string, kResourceTypeCount> version;  // hash of the whole type
  // Fills in per-resource and per-type versions.
  void seal();
};

// FNV-1a, as hex: cheap, stable content hashes for versions.
std::string contentHash(const std::string& bytes);

}  // namespace weft::control
