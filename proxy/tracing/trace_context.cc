#include "proxy/tracing/trace_context.h"

#include <cstdio>

namespace weft::tracing {
namespace {

bool isHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// An id: `length` lower-case hex digits, not all zero (invalid in both formats).
bool lowerHex(std::string_view s, size_t length) {
  return s.size() == length && isHex(s) && s.find_first_not_of('0') != std::string_view::npos;
}

// B3 ids may be upper case and 64-bit trace ids; normalised to W3C's shape.
std::optional<std::string> b3Id(std::string_view s, bool trace) {
  std::string id;
  for (char c : s) id.push_back(c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c);
  if (trace && id.size() == 16) id = std::string(16, '0') + id;
  if (!lowerHex(id, trace ? 32 : 16)) return std::nullopt;
  return id;
}

std::string hex64(uint64_t v) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(v));
  return buffer;
}

const std::string* get(const http::HeaderMap& headers, const char* name) {
  const std::string* value = headers.get(name);
  return value != nullptr && !value->empty() ? value : nullptr;
}

std::optional<TraceContext> parseB3Single(std::string_view value) {
  // TRACEID-SPANID[-SAMPLED[-PARENTSPANID]], or just the sampling decision.
  TraceContext context;
  context.format = Propagation::kB3Single;
  if (value == "0" || value == "1" || value == "d") return std::nullopt;  // no ids to continue
  size_t a = value.find('-');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = value.find('-', a + 1);
  auto trace = b3Id(value.substr(0, a), true);
  auto span = b3Id(value.substr(a + 1, b == std::string_view::npos ? b : b - a - 1), false);
  if (!trace || !span) return std::nullopt;
  context.trace_id = *trace;
  context.parent_span_id = *span;
  context.sampling_decided = false;
  if (b != std::string_view::npos) {
    size_t c = value.find('-', b + 1);
    std::string_view sampled = value.substr(b + 1, c == std::string_view::npos ? c : c - b - 1);
    if (sampled != "0" && sampled != "1" && sampled != "d") return std::nullopt;
    context.sampled = sampled != "0";
    context.sampling_decided = true;
  }
  return context;
}

}  // namespace

std::optional<TraceContext> parseTraceparent(std::string_view v) {
  // version 00 is exactly 55 characters; a later version may append fields.
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  std::string_view version = v.substr(0, 2);
  if (!isHex(version) || version == "ff") return std::nullopt;
  if (version == "00" && v.size() != 55) return std::nullopt;
  if (version != "00" && v.size() > 55 && v[55] != '-') return std::nullopt;
  std::string_view trace = v.substr(3, 32), parent = v.substr(36, 16), flags = v.substr(53, 2);
  if (!lowerHex(trace, 32) || !lowerHex(parent, 16)) return std::nullopt;
  if (!isHex(flags)) return std::nullopt;
  auto hexValue = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  TraceContext context;
  context.trace_id = std::string(trace);
  context.parent_span_id = std::string(parent);
  context.sampled = (hexValue(flags[1]) & 1) != 0;
  return context;
}

std::string formatTraceparent(const std::string& trace_id, const std::string& span_id,
                              bool sampled) {
  return "00-" + trace_id + "-" + span_id + (sampled ? "-01" : "-00");
}

std::optional<TraceContext> extract(const http::HeaderMap& headers) {
  if (const std::string* traceparent = get(headers, "traceparent")) {
    if (auto context = parseTraceparent(*traceparent)) {
      if (const std::string* state = get(headers, "tracestate")) context->trace_state = *state;
      return context;
    }
  }
  if (const std::string* b3 = get(headers, "b3")) {
    if (auto context = parseB3Single(*b3)) return context;
  }
  const std::string* trace = get(headers, "x-b3-traceid");
  const std::string* span = get(headers, "x-b3-spanid");
  if (trace == nullptr || span == nullptr) return std::nullopt;
  auto trace_id = b3Id(*trace, true);
  auto span_id = b3Id(*span, false);
  if (!trace_id || !span_id) return std::nullopt;
  TraceContext context;
  context.format = Propagation::kB3Multi;
  context.trace_id = *trace_id;
  context.parent_span_id = *span_id;
  const std::string* flags = get(headers, "x-b3-flags");
  const std::string* sampled = get(headers, "x-b3-sampled");
  if (flags != nullptr && *flags == "1") {  // debug: sampled
    context.sampled = true;
  } else if (sampled != nullptr) {
    context.sampled = *sampled == "1" || *sampled == "true";
  } else {
    context.sampling_decided = false;
  }
  return context;
}

void inject(const TraceContext& context, const std::string& span_id, http::HeaderMap& headers) {
  headers.set("traceparent", formatTraceparent(context.trace_id, span_id, context.sampled));
  if (!context.trace_state.empty()) headers.set("tracestate", context.trace_state);
  // B3 in the caller's format, and wherever the request carries B3 already
  // (an earlier hop continued W3C but the app propagates B3): a stale B3
  // span id would make the next hop's parent the wrong span.
  if (context.format == Propagation::kB3Single || headers.has("b3")) {
    std::string b3 = context.trace_id + "-" + span_id + (context.sampled ? "-1" : "-0");
    if (!context.parent_span_id.empty()) b3 += "-" + context.parent_span_id;
    headers.set("b3", b3);
  }
  if (context.format == Propagation::kB3Multi || headers.has("x-b3-traceid")) {
    headers.set("x-b3-traceid", context.trace_id);
    headers.set("x-b3-spanid", span_id);
    if (context.parent_span_id.empty()) {
      headers.remove("x-b3-parentspanid");
    } else {
      headers.set("x-b3-parentspanid", context.parent_span_id);
    }
    headers.set("x-b3-sampled", context.sampled ? "1" : "0");
    headers.remove("x-b3-flags");
  }
}

std::string newTraceId(std::mt19937_64& rng) {
  std::string id;
  do {
    id = hex64(rng()) + hex64(rng());
  } while (id == std::string(32, '0'));
  return id;
}

std::string newSpanId(std::mt19937_64& rng) {
  std::string id;
  do {
    id = hex64(rng());
  } while (id == std::string(16, '0'));
  return id;
}

}  // namespace weft::tracing
