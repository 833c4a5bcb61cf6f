#pragma once

// envoy.filters.http.fault: which requests are delayed and which aborted
// (shares per million). The stream runs the delay timer and sends the abort
// as a local reply flagged DI / FI.

#include <random>

#include "proxy/config/route_table.h"
#include "proxy/config/snapshot.h"

namespace weft::http {

// The route's own fault configuration, else the listener's; nullptr when none applies.
const config::FaultConfig* faultFor(const config::RouteEntry& route,
                                    const config::HttpListenerSettings& http);
bool rollFaultDelay(const config::FaultConfig& fault, std::mt19937_64& rng);
bool rollFaultAbort(const config::FaultConfig& fault, std::mt19937_64& rng);

}  // namespace weft::http
