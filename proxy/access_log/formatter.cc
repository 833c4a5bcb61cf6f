#include "proxy/access_log/formatter.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <utility>

#include "proxy/stream_info/response_flags.h"

namespace weft::access_log {

const char kDefaultTextFormat[] =
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
    "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
    "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
    "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

namespace {

enum class Op {
  kLiteral,
  kStartTime,
  kRequestHeader,
  kResponseHeader,
  kResponseTrailer,
  kProtocol,
  kResponseCode,
  kResponseFlags,
  kBytesReceived,
  kBytesSent,
  kDuration,
  kUpstreamHost,
  kUpstreamCluster,
  kDownstreamRemoteAddress,
  kDownstreamRemoteAddressWithoutPort,
  kDownstreamLocalAddress,
  kDownstreamPeerUriSan,
  kRouteName,
};

struct OperatorName {
  const char* name;
  Op op;
  bool takes_header;  // REQ(...), RESP(...), TRAILER(...)
  bool numeric;       // typed as a number in JSON
};

constexpr OperatorName kOperators[] = {
    {"START_TIME", Op::kStartTime, false, false},
    {"REQ", Op::kRequestHeader, true, false},
    {"RESP", Op::kResponseHeader, true, false},
    {"TRAILER", Op::kResponseTrailer, true, false},
    {"PROTOCOL", Op::kProtocol, false, false},
    {"RESPONSE_CODE", Op::kResponseCode, false, true},
    {"RESPONSE_FLAGS", Op::kResponseFlags, false, false},
    {"BYTES_RECEIVED", Op::kBytesReceived, false, true},
    {"BYTES_SENT", Op::kBytesSent, false, true},
    {"DURATION", Op::kDuration, false, true},
    {"UPSTREAM_HOST", Op::kUpstreamHost, false, false},
    {"UPSTREAM_CLUSTER", Op::kUpstreamCluster, false, false},
    {"DOWNSTREAM_REMOTE_ADDRESS", Op::kDownstreamRemoteAddress, false, false},
    {"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", Op::kDownstreamRemoteAddressWithoutPort, false,
     false},
    {"DOWNSTREAM_LOCAL_ADDRESS", Op::kDownstreamLocalAddress, false, false},
    {"DOWNSTREAM_PEER_URI_SAN", Op::kDownstreamPeerUriSan, false, false},
    {"ROUTE_NAME", Op::kRouteName, false, false},
};

struct Piece {
  Op op = Op::kLiteral;
  std::string literal;
  std::string header, alternative;  // lower case
  size_t max_length = 0;            // 0: no limit
  bool numeric = false;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Parses `format` into pieces; false with `error` naming the offending operator.
bool compile(std::string_view format, std::vector<Piece>* pieces, std::string* error) {
  std::string literal;
  size_t i = 0;
  while (i < format.size()) {
    char c = format[i];
    if (c != '%') {
      literal.push_back(c);
      ++i;
      continue;
    }
    size_t end = format.find('%', i + 1);
    // The operator's name runs to '(' or '%'; an argument in parentheses may hold '%'-free text.
    size_t name_end = i + 1;
    while (name_end < format.size() &&
           (std::isupper(static_cast<unsigned char>(format[name_end])) || format[name_end] == '_' ||
            std::isdigit(static_cast<unsigned char>(format[name_end])))) {
      ++name_end;
    }
    std::string_view name = format.substr(i + 1, name_end - i - 1);
    if (end == std::string_view::npos || name.empty()) {
      *error = "'%' at offset " + std::to_string(i) + " does not start a %OPERATOR%";
      return false;
    }
    Piece piece;
    const OperatorName* known = nullptr;
    for (const auto& candidate : kOperators) {
      if (name == candidate.name) known = &candidate;
    }
    if (known == nullptr) {
      *error = "unknown command operator %" + std::string(name) +
               "% (weft has START_TIME, REQ, "
               "RESP, TRAILER, PROTOCOL, RESPONSE_CODE, RESPONSE_FLAGS, BYTES_RECEIVED, "
               "BYTES_SENT, DURATION, UPSTREAM_HOST, UPSTREAM_CLUSTER, "
               "DOWNSTREAM_REMOTE_ADDRESS[_WITHOUT_PORT], DOWNSTREAM_LOCAL_ADDRESS, "
               "DOWNSTREAM_PEER_URI_SAN, ROUTE_NAME)";
      return false;
    }
    piece.op = known->op;
    piece.numeric = known->numeric;
    size_t pos = name_end;
    if (pos < format.size() && format[pos] == '(') {
      size_t close = format.find(')', pos);
      if (close == std::string_view::npos) {
        *error = "%" + std::string(name) + "(... has no closing ')'";
        return false;
      }
      std::string_view arg = format.substr(pos + 1, close - pos - 1);
      if (!known->takes_header) {
        *error = "%" + std::string(name) + "(" + std::string(arg) +
                 ")%: weft implements this operator without an argument";
        return false;
      }
      size_t q = arg.find('?');
      piece.header = lower(arg.substr(0, q));
      if (q != std::string_view::npos) piece.alternative = lower(arg.substr(q + 1));
      if (piece.header.empty() || (q != std::string_view::npos && piece.alternative.empty())) {
        *error = "%" + std::string(name) + "(" + std::string(arg) + ")% names no header";
        return false;
      }
      pos = close + 1;
    } else if (known->takes_header) {
      *error = "%" + std::string(name) + "% needs a header: %" + std::string(name) + "(NAME)%";
      return false;
    }
    if (pos < format.size() && format[pos] == ':') {
      size_t digits = pos + 1;
      while (digits < format.size() && std::isdigit(static_cast<unsigned char>(format[digits]))) {
        ++digits;
      }
      if (digits == pos + 1 || !known->takes_header) {
        *error = "%" + std::string(name) +
                 "%: ':' must be followed by a length, and only on "
                 "REQ/RESP/TRAILER";
        return false;
      }
      piece.max_length = std::stoul(std::string(format.substr(pos + 1, digits - pos - 1)));
      pos = digits;
    }
    if (pos >= format.size() || format[pos] != '%') {
      *error = "%" + std::string(name) + " is not closed by '%' at offset " + std::to_string(pos);
      return false;
    }
    if (!literal.empty()) {
      Piece text;
      text.literal = std::move(literal);
      pieces->push_back(std::move(text));
      literal.clear();
    }
    pieces->push_back(std::move(piece));
    i = pos + 1;
  }
  if (!literal.empty()) {
    Piece text;
    text.literal = std::move(literal);
    pieces->push_back(std::move(text));
  }
  return true;
}

const std::string* header(const http::HeaderMap* map, const Piece& piece) {
  if (map == nullptr) return nullptr;
  const std::string* value = map->get(piece.header);
  if ((value == nullptr || value->empty()) && !piece.alternative.empty()) {
    value = map->get(piece.alternative);
  }
  return value;
}

// ISO 8601 in UTC with milliseconds, as Envoy's default START_TIME.
void appendStartTime(int64_t us, std::string* out) {
  time_t seconds = static_cast<time_t>(us / 1000000);
  struct tm utc;
  gmtime_r(&seconds, &utc);
  char buffer[64];  // room for any int the compiler imagines in each field
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>((us / 1000) % 1000));
  out->append(buffer);
}

// The value of one operator appended to `out`; false when it has none.
bool appendValue(const Piece& piece, const AccessLogRecord& r, std::string* out) {
  auto view = [out](std::string_view v) {
    if (v.empty()) return false;
    out->append(v);
    return true;
  };
  switch (piece.op) {
    case Op::kLiteral:
      out->append(piece.literal);
      return true;
    case Op::kStartTime:
      appendStartTime(r.start_time_us, out);
      return true;
    case Op::kRequestHeader:
    case Op::kResponseHeader:
    case Op::kResponseTrailer: {
      const http::HeaderMap* map = piece.op == Op::kRequestHeader    ? r.request_headers
                                   : piece.op == Op::kResponseHeader ? r.response_headers
                                                                     : r.response_trailers;
      const std::string* value = header(map, piece);
      if (value == nullptr || value->empty()) return false;
      out->append(piece.max_length > 0 ? value->substr(0, piece.max_length) : *value);
      return true;
    }
    case Op::kProtocol:
      return view(r.protocol);
    case Op::kResponseCode:
      out->append(std::to_string(r.response_code));
      return true;
    case Op::kResponseFlags:
      out->append(stream_info::responseFlagsString(r.response_flags));
      return true;
    case Op::kBytesReceived:
      out->append(std::to_string(r.bytes_received));
      return true;
    case Op::kBytesSent:
      out->append(std::to_string(r.bytes_sent));
      return true;
    case Op::kDuration:
      out->append(std::to_string(r.duration_ms));
      return true;
    case Op::kUpstreamHost:
      return view(r.upstream_host);
    case Op::kUpstreamCluster:
      return view(r.upstream_cluster);
    case Op::kDownstreamRemoteAddress:
      if (r.downstream_remote == nullptr) return false;
      out->append(r.downstream_remote->toString());
      return true;
    case Op::kDownstreamRemoteAddressWithoutPort:
      if (r.downstream_remote == nullptr) return false;
      out->append(r.downstream_remote->ip());
      return true;
    case Op::kDownstreamLocalAddress:
      if (r.downstream_local == nullptr) return false;
      out->append(r.downstream_local->toString());
      return true;
    case Op::kDownstreamPeerUriSan:
      return view(r.downstream_peer_uri_san);
    case Op::kRouteName:
      return view(r.route_name);
  }
  return false;
}

void appendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      // Bytes off the network need not be UTF-8: escaped, the line stays valid JSON.
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
      out->append(buffer);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

class TextFormatter : public Formatter {
 public:
  TextFormatter(std::vector<Piece> pieces, bool omit_empty)
      : pieces_(std::move(pieces)), omit_empty_(omit_empty) {}

  void format(const AccessLogRecord& record, std::string* out) const override {
    size_t start = out->size();
    for (const Piece& piece : pieces_) {
      if (!appendValue(piece, record, out) && !omit_empty_) out->push_back('-');
    }
    if (out->size() == start || out->back() != '\n') out->push_back('\n');
  }

 private:
  std::vector<Piece> pieces_;
  bool omit_empty_;
};

// One value of the JSON dictionary: a format string, a constant or an object.
struct JsonNode {
  std::string key;
  enum class Kind { kFormat, kConstant, kObject } kind = Kind::kFormat;
  std::vector<Piece> pieces;
  std::string constant;  // already JSON
  std::vector<JsonNode> children;
};

class JsonFormatter : public Formatter {
 public:
  JsonFormatter(std::vector<JsonNode> root, bool omit_empty)
      : root_(std::move(root)), omit_empty_(omit_empty) {}

  void format(const AccessLogRecord& record, std::string* out) const override {
    appendObject(root_, record, out);
    out->push_back('\n');
  }

 private:
  void appendObject(const std::vector<JsonNode>& nodes, const AccessLogRecord& record,
                    std::string* out) const {
    out->push_back('{');
    bool first = true;
    std::string value;
    for (const JsonNode& node : nodes) {
      value.clear();
      if (node.kind == JsonNode::Kind::kConstant) {
        value = node.constant;
      } else if (node.kind == JsonNode::Kind::kObject) {
        appendObject(node.children, record, &value);
      } else if (node.pieces.size() == 1 && node.pieces[0].op != Op::kLiteral) {
        // One operator alone: typed (a number stays a number), null when missing.
        std::string raw;
        if (!appendValue(node.pieces[0], record, &raw)) {
          if (omit_empty_) continue;
          value = "null";
        } else if (node.pieces[0].numeric) {
          value = raw;
        } else {
          appendJsonString(raw, &value);
        }
      } else {
        std::string raw;
        for (const Piece& piece : node.pieces) {
          if (!appendValue(piece, record, &raw)) raw.push_back('-');
        }
        appendJsonString(raw, &value);
      }
      if (!first) out->push_back(',');
      first = false;
      appendJsonString(node.key, out);
      out->push_back(':');
      out->append(value);
    }
    out->push_back('}');
  }

  std::vector<JsonNode> root_;
  bool omit_empty_;
};

bool compileJson(const google::protobuf::Struct& format, const std::string& path,
                 std::vector<JsonNode>* nodes, std::string* error) {
  // A Struct's fields are a map without order: sorted, every line has the same key order.
  std::map<std::string, const google::protobuf::Value*> sorted;
  for (const auto& [key, value] : format.fields()) sorted[key] = &value;
  for (const auto& [key, value_ptr] : sorted) {
    const google::protobuf::Value& value = *value_ptr;
    JsonNode node;
    node.key = key;
    switch (value.kind_case()) {
      case google::protobuf::Value::kStringValue:
        if (!compile(value.string_value(), &node.pieces, error)) {
          *error = path + key + ": " + *error;
          return false;
        }
        break;
      case google::protobuf::Value::kNumberValue: {
        node.kind = JsonNode::Kind::kConstant;
        char buffer[32];
        std::snprintf(buffer, sizeof(buffer), "%.17g", value.number_value());
        node.constant = buffer;
        break;
      }
      case google::protobuf::Value::kBoolValue:
        node.kind = JsonNode::Kind::kConstant;
        node.constant = value.bool_value() ? "true" : "false";
        break;
      case google::protobuf::Value::kStructValue:
        node.kind = JsonNode::Kind::kObject;
        if (!compileJson(value.struct_value(), path + key + ".", &node.children, error)) {
          return false;
        }
        break;
      default:
        *error = path + key + ": a value must be a format string, a number, a bool or an object";
        return false;
    }
    nodes->push_back(std::move(node));
  }
  return true;
}

}  // namespace

std::unique_ptr<const Formatter> Formatter::text(std::string_view format, bool omit_empty,
                                                 std::string* error) {
  std::vector<Piece> pieces;
  if (!compile(format, &pieces, error)) return nullptr;
  return std::make_unique<TextFormatter>(std::move(pieces), omit_empty);
}

std::unique_ptr<const Formatter> Formatter::json(const google::protobuf::Struct& format,
                                                 bool omit_empty, std::string* error) {
  std::vector<JsonNode> root;
  if (!compileJson(format, "", &root, error)) return nullptr;
  if (root.empty()) {
    *error = "json_format has no keys";
    return nullptr;
  }
  return std::make_unique<JsonFormatter>(std::move(root), omit_empty);
}

}  // namespace weft::access_log
