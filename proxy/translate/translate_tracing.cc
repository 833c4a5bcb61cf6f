#include "proxy/translate/translate_tracing.h"

#include "envoy/config/trace/v3/opentelemetry.pb.h"
#include "proxy/translate/translate_util.h"

namespace weft::translate {
namespace {

using Hcm = envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
constexpr char kOpenTelemetryName[] = "envoy.tracers.opentelemetry";

bool share(const envoy::type::v3::Percent& percent, const std::string& path, double* out,
           common::ErrorList& errors) {
  if (percent.value() < 0 || percent.value() > 100) {
    errors.add(path + ".value", "must be within 0..100");
    return false;
  }
  *out = percent.value() / 100.0;
  return true;
}

}  // namespace

std::shared_ptr<const tracing::TracingConfig> translateTracing(
    const Hcm::Tracing& proto, const std::string& path, tracing::SpanExporterFactory* exporters,
    common::ErrorList& errors) {
  bool ok = true;
  auto config = std::make_shared<tracing::TracingConfig>();
  if (proto.has_random_sampling()) {
    ok &=
        share(proto.random_sampling(), path + ".random_sampling", &config->random_sampling, errors);
  }
  if (proto.has_overall_sampling()) {
    ok &= share(proto.overall_sampling(), path + ".overall_sampling", &config->overall_sampling,
                errors);
  }
  if (proto.has_max_path_tag_length()) {
    config->max_path_tag_length = proto.max_path_tag_length().value();
  }
  auto unsupported = [&](bool set, const char* field, const char* why) {
    if (!set) return;
    errors.add(path + "." + field, std::string("not supported by weft") + why);
    ok = false;
  };
  unsupported(proto.has_client_sampling(), "client_sampling",
              " (x-client-trace-id does not force tracing)");
  unsupported(proto.verbose(), "verbose", "");
  unsupported(proto.has_spawn_upstream_span() && proto.spawn_upstream_span().value(),
              "spawn_upstream_span", " (one span per proxy hop)");
  unsupported(!proto.operation().empty(), "operation", "");
  unsupported(!proto.upstream_operation().empty(), "upstream_operation", "");
  unsupported(proto.no_context_propagation(), "no_context_propagation", "");
  if (!proto.has_provider()) {
    errors.add(path + ".provider", "is required (weft traces only to a provider)");
    return nullptr;
  }
  const auto& provider = proto.provider();
  std::string ppath = path + ".provider";
  if (!provider.name().empty() && provider.name() != kOpenTelemetryName) {
    errors.add(ppath + ".name",
               "'" + provider.name() + "': only " + kOpenTelemetryName + " is supported by weft");
    return nullptr;
  }
  envoy::config::trace::v3::OpenTelemetryConfig otel;
  if (!provider.has_typed_config() || !provider.typed_config().UnpackTo(&otel)) {
    errors.add(ppath + ".typed_config", "must be an envoy.config.trace.v3.OpenTelemetryConfig");
    return nullptr;
  }
  std::string gpath = ppath + ".typed_config.grpc_service";
  if (!otel.has_grpc_service() || !otel.grpc_service().has_envoy_grpc() ||
      otel.grpc_service().envoy_grpc().cluster_name().empty()) {
    errors.add(gpath + ".envoy_grpc.cluster_name", "is required (OTLP over gRPC to a cluster)");
    return nullptr;
  }
  if (!otel.grpc_service().envoy_grpc().authority().empty()) {
    errors.add(gpath + ".envoy_grpc.authority", "not supported by weft");
    return nullptr;
  }
  if (!ok) return nullptr;
  if (exporters == nullptr) {
    errors.add(ppath, "tracing is not available here");
    return nullptr;
  }
  config->collector_cluster = otel.grpc_service().envoy_grpc().cluster_name();
  uint64_t timeout_ms =
      otel.grpc_service().has_timeout() ? durationMs(otel.grpc_service().timeout()) : 0;
  config->exporter =
      exporters->exporterFor(config->collector_cluster, otel.service_name(), timeout_ms);
  return config;
}

}  // namespace weft::translate
