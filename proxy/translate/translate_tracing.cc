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
  if (otel.has_grpc_service() == otel.has_http_service()) {
    errors.add(ppath + ".typed_config",
               "needs exactly one of grpc_service (OTLP/gRPC) and http_service (OTLP/HTTP)");
    return nullptr;
  }
  tracing::CollectorConfig collector;
  collector.service_name = otel.service_name();
  if (otel.has_grpc_service()) {
    std::string gpath = ppath + ".typed_config.grpc_service";
    if (!otel.grpc_service().has_envoy_grpc() ||
        otel.grpc_service().envoy_grpc().cluster_name().empty()) {
      errors.add(gpath + ".envoy_grpc.cluster_name", "is required (OTLP over gRPC to a cluster)");
      return nullptr;
    }
    if (!otel.grpc_service().envoy_grpc().authority().empty()) {
      errors.add(gpath + ".envoy_grpc.authority", "not supported by weft");
      return nullptr;
    }
    collector.cluster = otel.grpc_service().envoy_grpc().cluster_name();
    if (otel.grpc_service().has_timeout()) {
      collector.timeout_ms = durationMs(otel.grpc_service().timeout());
    }
  } else {
    std::string hpath = ppath + ".typed_config.http_service.http_uri";
    const auto& uri = otel.http_service().http_uri();
    if (uri.cluster().empty()) {
      errors.add(hpath + ".cluster", "is required (OTLP/HTTP to a cluster)");
      return nullptr;
    }
    // http://authority/path: the Host and the path; the connection is the
    // cluster's (its transport_socket decides TLS, as in Envoy).
    const std::string& text = uri.uri();
    size_t scheme = text.find("://");
    size_t slash = scheme == std::string::npos ? scheme : text.find('/', scheme + 3);
    if (scheme == std::string::npos ||
        (text.compare(0, scheme, "http") != 0 && text.compare(0, scheme, "https") != 0) ||
        slash == std::string::npos || slash == scheme + 3) {
      errors.add(hpath + ".uri", "'" + text + "' is not http(s)://HOST[:PORT]/PATH");
      return nullptr;
    }
    collector.http = true;
    collector.cluster = uri.cluster();
    collector.http_authority = text.substr(scheme + 3, slash - scheme - 3);
    collector.http_path = text.substr(slash);
    if (uri.has_timeout()) collector.timeout_ms = durationMs(uri.timeout());
  }
  if (!ok) return nullptr;
  if (exporters == nullptr) {
    errors.add(ppath, "tracing is not available here");
    return nullptr;
  }
  config->collector_cluster = collector.cluster;
  config->exporter = exporters->exporterFor(collector);
  return config;
}

}  // namespace weft::translate
