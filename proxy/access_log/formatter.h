#pragma once

// Envoy's access-log formats, compiled once at config time: a text format
// (literal text and command operators: %OPERATOR%, %OPERATOR(ARG)%,
// %OPERATOR(ARG):MAX_LENGTH%) or a JSON dictionary whose values are such
// formats. An unknown operator, a malformed one or an argument weft does not
// implement is a config error naming it. Formatting appends one line.
//
// Operators: START_TIME, REQ(H[?ALT]), RESP(H[?ALT]), TRAILER(H[?ALT]),
// PROTOCOL, RESPONSE_CODE, RESPONSE_FLAGS, BYTES_RECEIVED, BYTES_SENT,
// DURATION, UPSTREAM_HOST, UPSTREAM_CLUSTER, DOWNSTREAM_REMOTE_ADDRESS,
// DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT, DOWNSTREAM_LOCAL_ADDRESS,
// DOWNSTREAM_PEER_URI_SAN, ROUTE_NAME. Text renders a missing value as "-";
// JSON as null (or leaves the key out with omit_empty_values), and a value
// that is a numeric operator alone as a number.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "proxy/access_log/access_log_record.h"

namespace weft::access_log {

// Envoy's default text format (used when an access log names no format).
extern const char kDefaultTextFormat[];

class Formatter {
 public:
  virtual ~Formatter() = default;
  // Appends the line for `record` (ending in '\n') to `out`.
  virtual void format(const AccessLogRecord& record, std::string* out) const = 0;

  static std::unique_ptr<const Formatter> text(std::string_view format, bool omit_empty,
                                               std::string* error);
  static std::unique_ptr<const Formatter> json(const google::protobuf::Struct& format,
                                               bool omit_empty, std::string* error);
};

}  // namespace weft::access_log
