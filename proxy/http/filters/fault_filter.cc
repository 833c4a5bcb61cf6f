#include "proxy/http/filters/fault_filter.h"

namespace weft::http {

const config::FaultConfig* faultFor(const config::RouteEntry& route,
                                    const config::HttpListenerSettings& http) {
  const config::FaultConfig* fault =
      route.fault ? &*route.fault : (http.fault ? &*http.fault : nullptr);
  return fault != nullptr && !fault->empty() ? fault : nullptr;
}

bool rollFaultDelay(const config::FaultConfig& fault, std::mt19937_64& rng) {
  return fault.delay_per_million > 0 && rng() % 1000000 < fault.delay_per_million;
}

bool rollFaultAbort(const config::FaultConfig& fault, std::mt19937_64& rng) {
  return fault.abort_per_million > 0 && rng() % 1000000 < fault.abort_per_million;
}

}  // namespace weft::http
