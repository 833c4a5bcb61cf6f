#pragma once

// The HTTP connection manager's tracing -> tracing::TracingConfig: Envoy's
// random_sampling, overall_sampling and max_path_tag_length, with the
// OpenTelemetry provider (envoy.tracers.opentelemetry) exporting OTLP over
// gRPC to an envoy_grpc cluster. The rest (client_sampling, verbose,
// spawn_upstream_span, operation names, no_context_propagation, other
// providers, http_service) is an error naming its path.

#include <memory>
#include <string>

#include "common/base/error_list.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "proxy/tracing/stream_tracer.h"

namespace weft::translate {

std::shared_ptr<const tracing::TracingConfig> translateTracing(
    const envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager::
        Tracing& proto,
    const std::string& path, tracing::SpanExporterFactory* exporters, common::ErrorList& errors);

}  // namespace weft::translate
