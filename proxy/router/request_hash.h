#pragma once

// The hash a route's hash_policy gives one request, for a RING_HASH or
// MAGLEV cluster (Envoy's semantics): each policy that finds its input adds
// to the hash, a terminal one that found it ends the list, and none found
// means no hash (the cluster then picks at random). A cookie policy with a
// ttl makes up the cookie a first request lacks, hashes on it and asks for
// it to be set on the response, so the client's next requests stick too.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/http/codec.h"
#include "common/network/address.h"
#include "proxy/config/route_table.h"

namespace weft::router {

struct RequestHash {
  std::optional<uint64_t> hash;
  std::string set_cookie;  // a Set-Cookie value for the response, or empty
};

RequestHash hashRequest(const std::vector<config::HashPolicy>& policies,
                        const http::HeaderMap& request, const network::Address* downstream,
                        std::mt19937_64& rng);

// The value of cookie `name` in the request's cookie headers, or nullopt.
std::optional<std::string_view> findCookie(const http::HeaderMap& request, std::string_view name);

}  // namespace weft::router
