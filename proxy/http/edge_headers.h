#pragma once

// Request headers at the mesh edge (HCM use_remote_address): what a client
// outside the mesh, or the app itself, may not claim. Only the mesh sets
// x-envoy-* and x-weft-* headers (retry and overflow signals, attempt
// counts), so the edge removes them; x-forwarded-proto says what the
// connection is; the peer's address joins x-forwarded-for and names the
// client in x-envoy-external-address (both skipped with skip_xff_append,
// which weft-control sets for the app's own requests). Inside the mesh
// (mTLS between sidecars) the previous hop is trusted and nothing changes.

#include "common/http/header_map.h"
#include "common/network/address.h"
#include "proxy/config/snapshot.h"

namespace weft::http {

// Applies the edge rules of `settings` (nothing unless use_remote_address).
void sanitizeAtEdge(HeaderMap& headers, const config::HttpListenerSettings& settings,
                    const network::Address& remote, bool tls);

// True for the headers only the mesh sets.
bool isMeshInternalHeader(std::string_view name);

}  // namespace weft::http
