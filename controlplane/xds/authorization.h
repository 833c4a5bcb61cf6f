#pragma once

// AuthorizationPolicy -> Envoy RBAC on a Service's inbound listeners: an
// ALLOW policy per rule, principals from the callers' SPIFFE identities
// (proven by mTLS), permissions from paths and methods. A Service no policy
// selects gets no RBAC; one that any policy selects denies what no rule allows.

#include "controlplane/model/objects.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace weft::control {

// False when no AuthorizationPolicy selects `svc`.
bool authorizationFor(const ConfigSet& config, const Service& svc,
                      envoy::config::rbac::v3::RBAC* out);

// Puts envoy.filters.http.rbac before the router.
void addHttpRbac(
    const envoy::config::rbac::v3::RBAC& rules,
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager* hcm);
// Puts envoy.filters.network.rbac before the chain's terminal filter.
void addNetworkRbac(const envoy::config::rbac::v3::RBAC& rules, const std::string& stat_prefix,
                    envoy::config::listener::v3::FilterChain* chain);

}  // namespace weft::control
