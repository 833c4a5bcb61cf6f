#pragma once

// The xDS resource types weft serves (weft-control) and subscribes to
// (weft-proxy), and the type URLs both sides write into Any fields: one
// table, so the two ends of the wire cannot drift apart.

#include <string_view>

namespace weft::mesh {

// In short-name order; also the index of per-type state on both sides.
enum XdsType { kCds = 0, kEds = 1, kLds = 2, kRds = 3, kSds = 4, kXdsTypeCount = 5 };

inline constexpr const char* kXdsTypeUrls[kXdsTypeCount] = {
    "type.googleapis.com/envoy.config.cluster.v3.Cluster",
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
    "type.googleapis.com/envoy.config.listener.v3.Listener",
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
};
inline constexpr const char* kXdsShortNames[kXdsTypeCount] = {"CDS", "EDS", "LDS", "RDS", "SDS"};

inline const char* typeUrl(XdsType type) {
  return type >= 0 && type < kXdsTypeCount ? kXdsTypeUrls[type] : "";
}
inline const char* shortName(XdsType type) {
  return type >= 0 && type < kXdsTypeCount ? kXdsShortNames[type] : "?";
}
// kXdsTypeCount when `url` is not a type weft serves.
inline XdsType typeFromUrl(std::string_view url) {
  for (int t = 0; t < kXdsTypeCount; ++t) {
    if (url == kXdsTypeUrls[t]) return static_cast<XdsType>(t);
  }
  return kXdsTypeCount;
}

// Typed configs inside the resources (transport sockets, protocol options).
inline constexpr char kUpstreamTlsContextType[] =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
inline constexpr char kDownstreamTlsContextType[] =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
inline constexpr char kHttpProtocolOptionsType[] =
    "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

}  // namespace weft::mesh
