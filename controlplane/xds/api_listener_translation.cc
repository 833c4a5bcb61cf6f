#include "controlplane/xds/api_listener_translation.h"

#include <cstdlib>

#include "controlplane/xds/resource_builders.h"
#include "envoy/config/listener/v3/listener.pb.h"

namespace weft::control {

namespace listener_v3 = envoy::config::listener::v3;

namespace {

bool hostMatchesService(const std::string& host, const Service& svc, uint16_t* port) {
  std::string name = host;
  *port = 0;
  size_t colon = host.rfind(':');
  if (colon != std::string::npos) {
    name = host.substr(0, colon);
    *port = static_cast<uint16_t>(std::atoi(host.c_str() + colon + 1));
  }
  return name == svc.meta.name || name == svc.meta.name + "." + svc.meta.ns ||
         name == svc.meta.name + "." + svc.meta.ns + ".svc" || name == fqdn(svc);
}

}  // namespace

void addApiListeners(const ConfigSet& config, const std::set<std::string>& api_listener_names,
                     ProxyResources& out) {
  for (const auto& requested : api_listener_names) {
    if (out.by_type[kLds].count(requested)) continue;
    for (const auto& svc : config.services) {
      uint16_t port = 0;
      if (!hostMatchesService(requested, svc, &port)) continue;
      listener_v3::Listener api;
      api.set_name(requested);
      api.mutable_api_listener()->mutable_api_listener()->PackFrom(
          httpConnectionManager(requested, "outbound", Downstream::kGrpcClient));
      add(out, kLds, requested, api);
      break;
    }
  }
}

void useGrpcClientHeaderMatchers(envoy::config::route::v3::RouteConfiguration& routes) {
  for (auto& vh : *routes.mutable_virtual_hosts()) {
    for (auto& route : *vh.mutable_routes()) {
      for (auto& header : *route.mutable_match()->mutable_headers()) {
        if (!header.has_string_match()) continue;
        envoy::type::matcher::v3::StringMatcher m = header.string_match();
        header.clear_string_match();
        // The legacy fields have no ignore_case; weft sets it on no header match.
        if (m.has_safe_regex()) {
          *header.mutable_safe_regex_match() = m.safe_regex();
        } else if (!m.prefix().empty()) {
          header.set_prefix_match(m.prefix());
        } else if (!m.suffix().empty()) {
          header.set_suffix_match(m.suffix());
        } else if (!m.contains().empty()) {
          header.set_contains_match(m.contains());
        } else {
          header.set_exact_match(m.exact());
        }
      }
    }
  }
}

}  // namespace weft::control
