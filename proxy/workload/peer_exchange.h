#pragma once

// The peer-metadata exchange on a meshed TCP connection (Istio's TCP
// metadata exchange, in weft's own framing): when the sidecars' TLS handshake
// negotiated mesh::kPeerExchangeAlpn, the client sidecar sends one frame
// before any of the app's bytes and the server sidecar answers with one
// before any of its app's bytes; each takes the other's frame off the
// stream, so neither app sees it. A frame is "WPX1", a 2-byte big-endian
// length and that many bytes of x-weft-peer-metadata text (the same encoding
// HTTP carries in its header), at most kMaxPeerFrameBytes.

#include <cstddef>
#include <string>
#include <string_view>

namespace weft::workload {

inline constexpr size_t kMaxPeerFrameBytes = 4096;

std::string encodePeerFrame(std::string_view metadata);

enum class PeerFrame { kIncomplete, kComplete, kInvalid };

// Reads a frame from the front of `buffer`: kComplete removes it and sets
// `metadata` (what follows stays in `buffer`); kIncomplete leaves all for
// more bytes; kInvalid means the peer does not speak the exchange.
PeerFrame takePeerFrame(std::string& buffer, std::string* metadata);

}  // namespace weft::workload
