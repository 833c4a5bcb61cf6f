#include "proxy/config/snapshot.h"

#include <algorithm>

namespace weft::config {

namespace {
// Envoy's order: a chain naming the destination port beats one that names
// none; among those, one whose application_protocols match beats one with no
// protocol condition.
const FilterChainConfig* pick(const std::vector<FilterChainConfig>& chains, uint16_t port, bool tls,
                              const std::vector<std::string>& offered, bool port_specific) {
  const FilterChainConfig* any_protocol = nullptr;
  for (const auto& chain : chains) {
    if (port_specific != chain.destination_port.has_value()) continue;
    if (port_specific && *chain.destination_port != port) continue;
    if (!chain.transport_protocol.empty() && (chain.transport_protocol == "tls") != tls) continue;
    if (chain.application_protocols.empty()) {
      if (any_protocol == nullptr) any_protocol = &chain;
      continue;
    }
    for (const auto& protocol : offered) {
      if (std::find(chain.application_protocols.begin(), chain.application_protocols.end(),
                    protocol) != chain.application_protocols.end()) {
        return &chain;
      }
    }
  }
  return any_protocol;
}
}  // namespace

const FilterChainConfig* ListenerConfig::selectChain(
    uint16_t destination_port, bool tls, const std::vector<std::string>& protocols) const {
  bool has_port_chain = std::any_of(filter_chains.begin(), filter_chains.end(), [&](const auto& c) {
    return c.destination_port && *c.destination_port == destination_port;
  });
  const FilterChainConfig* chain =
      pick(filter_chains, destination_port, tls, protocols, has_port_chain);
  if (chain != nullptr) return chain;
  return default_filter_chain ? &*default_filter_chain : nullptr;
}

int Snapshot::listenerForOriginalDestination(const network::Address& destination) const {
  int wildcard = -1;
  for (size_t i = 0; i < listeners.size(); ++i) {
    const ListenerConfig& l = listeners[i];
    if (l.bind_to_port || l.address.port() != destination.port()) continue;
    if (l.address == destination) return static_cast<int>(i);
    std::string ip = l.address.ip();
    if (wildcard < 0 && (ip == "0.0.0.0" || ip == "::") &&
        l.address.family() == destination.family()) {
      wildcard = static_cast<int>(i);
    }
  }
  return wildcard;
}

bool ListenerConfig::needsInspection(uint16_t destination_port) const {
  if (!inspect_http && !inspect_tls) return false;
  bool has_port_chain = std::any_of(filter_chains.begin(), filter_chains.end(), [&](const auto& c) {
    return c.destination_port && *c.destination_port == destination_port;
  });
  for (const auto& chain : filter_chains) {
    if (has_port_chain != chain.destination_port.has_value()) continue;
    if (has_port_chain && *chain.destination_port != destination_port) continue;
    if (!chain.application_protocols.empty()) return true;
    if (inspect_tls && !chain.transport_protocol.empty()) return true;
  }
  return false;
}

}  // namespace weft::config
