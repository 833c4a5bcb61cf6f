#include "proxy/http/local_reply.h"

#include <string>

namespace weft::http {

int grpcStatusForHttp(int http_status) {
  switch (http_status) {
    case 400:
      return 13;  // INTERNAL
    case 401:
      return 16;  // UNAUTHENTICATED
    case 403:
      return 7;  // PERMISSION_DENIED
    case 404:
      return 12;  // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;  // UNAVAILABLE
    default:
      return 2;  // UNKNOWN
  }
}

bool isGrpcRequest(const HeaderMap& headers) {
  const std::string* content_type = headers.get("content-type");
  return content_type != nullptr && content_type->rfind("application/grpc", 0) == 0;
}

void encodeLocalReply(StreamEncoder& encoder, bool grpc_request, int http_status,
                      std::string_view message, std::optional<int> grpc_status, bool overflow) {
  HeaderMap headers;
  if (grpc_request) {
    headers.add(":status", "200");
    headers.add("content-type", "application/grpc");
    headers.add("grpc-status",
                std::to_string(grpc_status ? *grpc_status : grpcStatusForHttp(http_status)));
    // Our messages are plain ASCII, which grpc-message may carry as is.
    headers.add("grpc-message", std::string(message));
    if (overflow) headers.add("x-weft-overflow", "true");
    encoder.encodeHeaders(headers, true);
    return;
  }
  headers.add(":status", std::to_string(http_status));
  headers.add("content-type", "text/plain");
  std::string text = std::string(message) + "\n";
  headers.add("content-length", std::to_string(text.size()));
  if (overflow) headers.add("x-weft-overflow", "true");
  encoder.encodeHeaders(headers, false);
  encoder.encodeData(text, true);
}

}  // namespace weft::http
