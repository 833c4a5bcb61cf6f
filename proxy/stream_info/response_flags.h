#pragma once

// Why a stream ended the way it did, as Envoy's %RESPONSE_FLAGS% says it: a
// closed set, recorded on every stream whose response the proxy made itself
// or cut, read by metrics (weft_downstream_rq_response_flags_total) and, with
// the observability work, by access logs and Istio's response_flags label.

#include <cstdint>
#include <string>

namespace weft::stream_info {

enum class ResponseFlag : uint32_t {
  kNoHealthyUpstream,                // UH
  kUpstreamConnectionFailure,        // UF (refused, timed out, TLS failed)
  kUpstreamOverflow,                 // UO (a circuit breaker refused it)
  kNoRoute,                          // NR
  kUpstreamRetryLimitExceeded,       // URX
  kUpstreamRequestTimeout,           // UT (route or per-try timeout)
  kLocalReset,                       // LR
  kUpstreamRemoteReset,              // UR
  kUpstreamConnectionTermination,    // UC
  kDownstreamConnectionTermination,  // DC (the client went away)
  kDelayInjected,                    // DI
  kFaultInjected,                    // FI
  kUnauthorized,                     // UAEX (weft: an RBAC / AuthorizationPolicy denial)
  kUpstreamProtocolError,            // UPE (the upstream's answer was not HTTP)
  kStreamIdleTimeout,                // SI
  kNoClusterFound,                   // NC
  kDownstreamRequestTimeout,         // DT (request_timeout: the request did not arrive in time)
  kCount
};

inline constexpr int kResponseFlagCount = static_cast<int>(ResponseFlag::kCount);

// Envoy's short name ("UH", "URX", ...).
const char* responseFlagName(int flag);

// "UH,URX" in the order above, or "-" when none (Envoy's format).
std::string responseFlagsString(uint32_t flags);

constexpr uint32_t flagBit(ResponseFlag flag) { return 1u << static_cast<uint32_t>(flag); }

}  // namespace weft::stream_info
