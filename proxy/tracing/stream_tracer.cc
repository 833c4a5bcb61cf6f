#include "proxy/tracing/stream_tracer.h"

namespace weft::tracing {
namespace {

bool roll(double share, std::mt19937_64& rng) {
  if (share >= 1.0) return true;
  if (share <= 0.0) return false;
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < share;
}

std::string headerOr(const http::HeaderMap& headers, const char* name) {
  const std::string* value = headers.get(name);
  return value != nullptr ? *value : std::string();
}

}  // namespace

StreamTracer::StreamTracer(std::shared_ptr<const TracingConfig> config, http::HeaderMap& request,
                           SpanKind kind, std::mt19937_64& rng, int64_t now_us)
    : config_(std::move(config)), kind_(kind), start_time_us_(now_us) {
  if (auto caller = extract(request)) {
    context_ = std::move(*caller);
    continued_ = true;
  } else {
    context_.trace_id = newTraceId(rng);
    context_.sampling_decided = false;
  }
  if (!context_.sampling_decided) {
    context_.sampled = roll(config_->random_sampling, rng);
    context_.sampling_decided = true;
  }
  if (context_.sampled && !roll(config_->overall_sampling, rng)) context_.sampled = false;
  span_id_ = newSpanId(rng);
  if (context_.sampled) {
    // The span's tags, kept from the request before it is rewritten upstream;
    // an unsampled request (most, at Istio's 1%) makes no span and keeps none.
    keepRequestTags(request);
  }
  inject(context_, span_id_, request);
}

void StreamTracer::keepRequestTags(const http::HeaderMap& request) {
  method_ = headerOr(request, ":method");
  authority_ = headerOr(request, ":authority");
  std::string path = headerOr(request, ":path");
  if (path.size() > config_->max_path_tag_length) path.resize(config_->max_path_tag_length);
  const std::string* scheme = request.get(":scheme");
  scheme_ = scheme != nullptr ? *scheme : std::string("http");
  url_ = scheme_ + "://" + authority_ + path;
  path_ = path.substr(0, path.find('?'));
  user_agent_ = headerOr(request, "user-agent");
  request_id_ = headerOr(request, "x-request-id");
}

void StreamTracer::finish(const std::string& service, const std::string& peer_address,
                          const SpanOutcome& outcome, int64_t now_us) {
  if (!context_.sampled || config_->exporter == nullptr) return;
  Span span;
  span.trace_id = context_.trace_id;
  span.span_id = span_id_;
  if (continued_) span.parent_span_id = context_.parent_span_id;
  span.trace_state = context_.trace_state;
  std::string host = service;
  if (host.empty()) host = authority_.substr(0, authority_.rfind(':'));
  span.name = host + "/*";
  span.kind = kind_;
  span.start_time_us = start_time_us_;
  span.end_time_us = now_us;
  auto& tags = span.attributes;
  tags.reserve(16);
  tags.emplace_back("component", "proxy");
  if (!request_id_.empty()) tags.emplace_back("guid:x-request-id", request_id_);
  tags.emplace_back("http.method", method_);
  tags.emplace_back("http.url", url_);
  tags.emplace_back("http.protocol", outcome.protocol);
  if (!user_agent_.empty()) tags.emplace_back("user_agent", user_agent_);
  tags.emplace_back("peer.address", peer_address);
  tags.emplace_back("http.status_code", std::to_string(outcome.response_code));
  if (outcome.grpc_status >= 0) {
    tags.emplace_back("grpc.status_code", std::to_string(outcome.grpc_status));
  }
  tags.emplace_back("response_flags", outcome.response_flags);
  if (!outcome.upstream_cluster.empty()) {
    tags.emplace_back("upstream_cluster", outcome.upstream_cluster);
    tags.emplace_back("upstream_cluster.name", outcome.upstream_cluster);
  }
  if (!outcome.upstream_address.empty()) {
    tags.emplace_back("upstream_address", outcome.upstream_address);
  }
  // OpenTelemetry's HTTP semantic conventions, beside Envoy's names above.
  tags.emplace_back("http.request.method", method_);
  tags.emplace_back("url.full", url_);
  tags.emplace_back("url.scheme", scheme_);
  tags.emplace_back("url.path", path_);
  tags.emplace_back("server.address", authority_.substr(0, authority_.rfind(':')));
  tags.emplace_back("network.protocol.name", "http");
  tags.emplace_back("network.protocol.version", outcome.protocol == "HTTP/2"     ? "2"
                                                : outcome.protocol == "HTTP/1.0" ? "1.0"
                                                                                 : "1.1");
  if (!user_agent_.empty()) tags.emplace_back("user_agent.original", user_agent_);
  if (outcome.response_code != 0) {
    span.int_attributes.emplace_back("http.response.status_code", outcome.response_code);
  }
  if (outcome.grpc_status >= 0) {
    span.int_attributes.emplace_back("rpc.grpc.status_code", outcome.grpc_status);
  }
  // The peers' identities (Istio's attribute names).
  if (!outcome.peer_principal.empty())
    tags.emplace_back("source.principal", outcome.peer_principal);
  if (!outcome.upstream_principal.empty()) {
    tags.emplace_back("destination.principal", outcome.upstream_principal);
  }
  // Envoy's rule: a 5xx, or no response at all, is an error span.
  span.error = outcome.response_code == 0 || outcome.response_code >= 500;
  if (span.error) tags.emplace_back("error", "true");
  config_->exporter->submit(std::move(span));
}

}  // namespace weft::tracing
