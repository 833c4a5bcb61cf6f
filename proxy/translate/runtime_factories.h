#pragma once

// What translation needs from the server's runtime state (which outlives
// every snapshot): the access-log sinks and the span exporters a
// configuration names, found or made by path / collector so that a push
// reuses them, and the answers its DNS clusters' names resolved to. Any may
// be absent (a config check, a test): then a config using it is an error.

#include "proxy/access_log/access_log_sink.h"
#include "proxy/dns/dns_target.h"
#include "proxy/tracing/span.h"

namespace weft::translate {

struct RuntimeFactories {
  access_log::AccessLogSinkFactory* access_logs = nullptr;
  tracing::SpanExporterFactory* tracers = nullptr;
  dns::DnsLookup* dns = nullptr;  // the DNS clusters' answers
};

}  // namespace weft::translate
