#pragma once

// Envoy's forward_client_cert_details: the app learns who called it (the
// peer's SPIFFE identity) from x-forwarded-client-cert, and a client cannot
// forge the header where it is sanitized.

#include "common/http/header_map.h"
#include "common/network/transport_socket.h"
#include "proxy/config/snapshot.h"

namespace weft::http {

// Sets, keeps or removes x-forwarded-client-cert on a request per
// `settings`; `tls` is the downstream connection's handshake (nullptr: plaintext).
void applyForwardedClientCert(HeaderMap& headers, const config::HttpListenerSettings& settings,
                              const network::TransportInfo* tls);

}  // namespace weft::http
