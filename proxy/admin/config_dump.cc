#include "proxy/admin/config_dump.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

namespace weft::admin {

std::string configDump(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                       const xds::XdsClient* xds) {
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  std::string bootstrap_json;
  google::protobuf::util::MessageToJsonString(bootstrap, &bootstrap_json, print);
  std::string out = "{\n\"bootstrap\": " + bootstrap_json;
  if (xds != nullptr) {
    static const char* kNames[] = {"clusters", "endpoints", "listeners", "routes", "secrets"};
    out += ",\n\"dynamic\": {";
    const auto& r = xds->resources();
    for (int t = 0; t < xds::kXdsTypeCount; ++t) {
      const auto& status = xds->status(static_cast<xds::XdsType>(t));
      std::string items;
      auto append = [&](const google::protobuf::Message& m) {
        std::string json;
        google::protobuf::util::MessageToJsonString(m, &json, print);
        items += (items.empty() ? "" : ",") + json;
      };
      if (t == xds::kCds)
        for (const auto& [n, m] : r.clusters) append(m);
      if (t == xds::kEds)
        for (const auto& [n, m] : r.endpoints) append(m);
      if (t == xds::kLds)
        for (const auto& [n, m] : r.listeners) append(m);
      if (t == xds::kRds)
        for (const auto& [n, m] : r.routes) append(m);
      if (t == xds::kSds) {
        // Names and kinds only: a config dump must not leak private keys.
        for (const auto& [n, m] : r.secrets) {
          nlohmann::json secret = {
              {"name", n},
              {"kind", m.has_tls_certificate() ? "tls_certificate" : "validation_context"}};
          items += (items.empty() ? "" : ",") + secret.dump();
        }
      }
      nlohmann::json rejected = {{"version", status.rejected_version},
                                 {"error", status.rejected_error},
                                 {"count", status.rejected}};
      out += std::string(t == 0 ? "" : ",") + "\n \"" + kNames[t] +
             "\": {\"version\": " + nlohmann::json(status.version).dump() +
             ", \"last_rejected\": " + rejected.dump() + ", \"resources\": [" + items + "]}";
    }
    out += "\n},\n\"xds_connected\": " + std::string(xds->connected() ? "true" : "false");
  }
  return out + "\n}\n";
}

}  // namespace weft::admin
