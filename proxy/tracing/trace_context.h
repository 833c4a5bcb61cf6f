#pragma once

// The trace a request belongs to, as the propagation headers carry it: W3C
// Trace Context (traceparent, tracestate) and Zipkin's B3, single-header
// (b3) and multi-header (x-b3-traceid, x-b3-spanid, x-b3-parentspanid,
// x-b3-sampled, x-b3-flags). Parsing is strict (a malformed header is as if
// absent, so a new trace starts: W3C's rule); ids are kept as lower-case hex.
// The foundation of weft's per-hop spans (issue 13).

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "common/http/header_map.h"

namespace weft::tracing {

enum class Propagation { kW3c, kB3Multi, kB3Single };

struct TraceContext {
  std::string trace_id;        // 32 hex digits (B3's 16-digit ids are left-padded)
  std::string parent_span_id;  // 16 hex digits: the caller's span, our span's parent
  bool sampled = false;
  bool sampling_decided = true;  // B3 may leave it to us
  std::string trace_state;       // W3C tracestate, passed on as received
  Propagation format = Propagation::kW3c;
};

// The caller's context from `headers`, W3C first, then B3 single, then B3
// multi; nullopt when none parses.
std::optional<TraceContext> extract(const http::HeaderMap& headers);

// Writes the propagation headers for a child span `span_id` of `context`:
// traceparent (and tracestate) always, and B3 in the format the caller used.
void inject(const TraceContext& context, const std::string& span_id, http::HeaderMap& headers);

// Random non-zero ids.
std::string newTraceId(std::mt19937_64& rng);
std::string newSpanId(std::mt19937_64& rng);

// W3C traceparent: "00-<trace_id>-<parent_id>-<flags>"; nullopt when malformed.
std::optional<TraceContext> parseTraceparent(std::string_view value);
std::string formatTraceparent(const std::string& trace_id, const std::string& span_id,
                              bool sampled);

}  // namespace weft::tracing
