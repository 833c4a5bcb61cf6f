#pragma once

// Responses the proxy makes itself (no route, no healthy upstream, overflow,
// timeouts, faults, denials). A gRPC client cannot read an HTTP error page:
// for a gRPC request the reply is trailers-only (:status 200, grpc-status,
// grpc-message), so its status code says what happened.

#include <optional>
#include <string_view>

#include "common/http/codec.h"

namespace weft::http {

// gRPC's HTTP-to-gRPC status mapping (doc/http-grpc-status-mapping.md), as
// Envoy applies it to local replies: 400 INTERNAL, 401 UNAUTHENTICATED, 403
// PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE, else UNKNOWN.
int grpcStatusForHttp(int http_status);

// Sends the reply on `encoder`. `grpc_status` overrides the mapping (a
// timeout is DEADLINE_EXCEEDED, an injected gRPC fault its own code);
// `overflow` marks a circuit breaker's refusal (x-weft-overflow: true).
void encodeLocalReply(StreamEncoder& encoder, bool grpc_request, int http_status,
                      std::string_view message, std::optional<int> grpc_status = std::nullopt,
                      bool overflow = false);

// True for content-type application/grpc (and +proto, +json, ...).
bool isGrpcRequest(const HeaderMap& headers);

}  // namespace weft::http
