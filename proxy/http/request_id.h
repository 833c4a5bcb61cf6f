#pragma once

// x-request-id: kept when the caller sent one (so one request carries one id
// through every hop and access log), generated as a random UUID (version 4)
// when it did not, as Envoy's connection manager does.

#include <random>

#include "common/http/header_map.h"

namespace weft::http {

inline constexpr char kRequestIdHeader[] = "x-request-id";

void ensureRequestId(HeaderMap& request, std::mt19937_64& rng);

}  // namespace weft::http
