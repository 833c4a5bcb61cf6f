#pragma once

// `weft-proxy sidecar`: the proxy as the injector runs it in a pod. Everything
// comes from WEFT_* environment variables (set by weft-injector, partly from
// the downward API), from which this builds the bootstrap and the options a
// hand-written bootstrap file would otherwise give.
//
//   WEFT_POD_NAME, WEFT_POD_NAMESPACE   required; the xDS node id is NAME.NAMESPACE
//   WEFT_POD_IP, WEFT_SERVICE_ACCOUNT   node metadata POD_IP, SERVICE_ACCOUNT
//   WEFT_XDS_ADDRESS                    required; HOST:PORT of weft-control's xDS
//   WEFT_CA_ADDRESS                     HOST:PORT of the mesh CA ("" = no certificate)
//   WEFT_CA_ROOT_CERT, WEFT_CA_TOKEN_FILE, WEFT_CA_IDENTITY, WEFT_TRUST_DOMAIN
//   WEFT_CONCURRENCY, WEFT_DRAIN_TIME_S
//   WEFT_OUTBOUND_PORT, WEFT_INBOUND_PORT (node metadata), WEFT_ADMIN_PORT
//   (127.0.0.1 only), WEFT_STATUS_PORT (all addresses: /ready and metrics)
//   WEFT_EXIT_WITH_APP                  "true": exit once the app's processes are gone
//   WEFT_APP_PROBES                     the kubelet probes to perform (mesh/app_probes.h)
//   WEFT_INTERCEPTION                   "iptables" (weft-init's rules; default) or
//                                       "none" (the app calls the outbound port)

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "proxy/server/server.h"

namespace weft::sidecar {

using Environment = std::map<std::string, std::string>;

// The current process's environment.
Environment processEnvironment();

// HOST -> IP (the proxy's clusters take addresses, not names). A Service name
// resolves to its stable cluster IP, so resolving once at start is enough.
using Resolver =
    std::function<std::optional<std::string>(const std::string& host, std::string* error)>;
// getaddrinfo, retried for up to `timeout_ms` (cluster DNS can lag a pod's start).
Resolver systemResolver(int timeout_ms);

// Fills `options` (bootstrap included). On a bad or missing variable returns
// false with `error` naming it.
bool optionsFromEnvironment(const Environment& env, const Resolver& resolve,
                            server::Options* options, std::string* error);

}  // namespace weft::sidecar
