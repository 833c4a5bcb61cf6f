#include "proxy/translate/translate_listener.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "proxy/translate/translate_access_log.h"
#include "proxy/translate/translate_rbac.h"
#include "proxy/translate/translate_route.h"
#include "proxy/translate/translate_tls.h"
#include "proxy/translate/translate_tracing.h"
#include "proxy/translate/translate_util.h"

namespace weft::translate {

namespace listener_v3 = envoy::config::listener::v3;
namespace hcm_v3 = envoy::extensions::filters::network::http_connection_manager::v3;
namespace tcp_v3 = envoy::extensions::filters::network::tcp_proxy::v3;

namespace {

constexpr char kHcmName[] = "envoy.filters.network.http_connection_manager";
constexpr char kRouterName[] = "envoy.filters.http.router";

bool httpFilterFrom(const hcm_v3::HttpConnectionManager& hcm, const std::string& path,
                    common::ErrorList& errors, std::optional<config::FaultConfig>* fault,
                    rbac::RbacEnginePtr* rbac) {
  bool ok = true;
  if (hcm.http_filters_size() == 0) {
    errors.add(path + ".http_filters", "the envoy.filters.http.router filter is required");
    return false;
  }
  for (int i = 0; i < hcm.http_filters_size(); ++i) {
    const auto& f = hcm.http_filters(i);
    std::string fpath = path + ".http_filters[" + std::to_string(i) + "]";
    bool is_router = f.name() == kRouterName ||
                     (f.has_typed_config() && typeName(f.typed_config()) ==
                                                  "envoy.extensions.filters.http.router.v3.Router");
    bool is_fault = f.has_typed_config() && typeName(f.typed_config()) ==
                                                "envoy.extensions.filters.http.fault.v3.HTTPFault";
    bool is_rbac = f.has_typed_config() &&
                   typeName(f.typed_config()) == "envoy.extensions.filters.http.rbac.v3.RBAC";
    if (is_rbac && i != hcm.http_filters_size() - 1) {
      envoy::extensions::filters::http::rbac::v3::RBAC config;
      f.typed_config().UnpackTo(&config);
      if (config.has_shadow_rules()) {
        errors.add(fpath + ".typed_config.shadow_rules", "not supported");
        ok = false;
      }
      if (config.has_rules() &&
          !rbacFrom(config.rules(), fpath + ".typed_config.rules", rbac, errors)) {
        ok = false;
      }
    } else if (is_fault && i != hcm.http_filters_size() - 1) {
      config::FaultConfig config;
      if (faultFrom(f.typed_config(), fpath + ".typed_config", &config, errors)) {
        *fault = config;
      } else {
        ok = false;
      }
    } else if (!is_router) {
      errors.add(fpath, "unknown HTTP filter '" + f.name() + "'");
      ok = false;
    } else if (i != hcm.http_filters_size() - 1) {
      errors.add(fpath, "the router filter must be the last HTTP filter");
      ok = false;
    }
  }
  return ok;
}
bool isRbac(const google::protobuf::Any& config) {
  std::string type = typeName(config);
  return type == "envoy.extensions.filters.http.rbac.v3.RBAC" ||
         type == "envoy.extensions.filters.network.rbac.v3.RBAC";
}

std::string hashOf(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return std::to_string(std::hash<std::string>{}(bytes));
}

// The chain without its RBAC filters: two chains that hash alike here
// differ at most in who may call (no filter: anyone, as a first policy
// finds it), which a connection can take on without being drained.
template <typename Filters, typename IsRbac>
void removeIf(Filters* filters, IsRbac is_rbac) {
  for (int i = filters->size() - 1; i >= 0; --i) {
    if (is_rbac(filters->Get(i))) filters->DeleteSubrange(i, 1);
  }
}

std::string fingerprintWithoutRbac(listener_v3::FilterChain chain) {
  removeIf(chain.mutable_filters(), [](const auto& f) { return isRbac(f.typed_config()); });
  for (auto& filter : *chain.mutable_filters()) {
    hcm_v3::HttpConnectionManager hcm;
    if (!filter.typed_config().UnpackTo(&hcm)) continue;
    removeIf(hcm.mutable_http_filters(), [](const auto& f) { return isRbac(f.typed_config()); });
    filter.mutable_typed_config()->PackFrom(hcm);
  }
  return hashOf(chain);
}
}  // namespace

namespace {
constexpr char kHttpInspectorName[] = "envoy.filters.listener.http_inspector";
constexpr char kTlsInspectorName[] = "envoy.filters.listener.tls_inspector";

bool translateFilterChain(const listener_v3::FilterChain& chain, const std::string& cpath,
                          config::FilterChainConfig* out, common::ErrorList& errors,
                          const RouteResolver* routes, const SecretResolver* secrets,
                          const RuntimeFactories* runtime) {
  bool ok = true;
  out->name = chain.name();
  out->fingerprint = hashOf(chain);
  out->fingerprint_without_rbac = fingerprintWithoutRbac(chain);
  if (chain.has_filter_chain_match()) {
    const auto& match = chain.filter_chain_match();
    if (match.has_destination_port()) {
      if (match.destination_port().value() == 0 || match.destination_port().value() > 65535) {
        errors.add(cpath + ".filter_chain_match.destination_port", "port out of range");
        ok = false;
      }
      out->destination_port = static_cast<uint16_t>(match.destination_port().value());
    }
    // Behind TLS the ClientHello's ALPN offers are matched, whatever they
    // name; in plaintext only what the first bytes can tell.
    bool tls = chain.has_transport_socket() || match.transport_protocol() == "tls";
    for (const auto& protocol : match.application_protocols()) {
      if (!tls && protocol != "http/1.1" && protocol != "http/1.0" && protocol != "h2c") {
        errors.add(
            cpath + ".filter_chain_match.application_protocols",
            "'" + protocol +
                "' is not detectable without TLS (use http/1.1, http/1.0, h2c, or match a TLS "
                "chain's ALPN)");
        ok = false;
      }
      out->application_protocols.push_back(protocol);
    }
    if (match.server_names_size() > 0) {
      errors.add(cpath + ".filter_chain_match.server_names", "SNI matching needs TLS (not yet)");
      ok = false;
    }
    if (!match.transport_protocol().empty() && match.transport_protocol() != "raw_buffer" &&
        match.transport_protocol() != "tls") {
      errors.add(cpath + ".filter_chain_match.transport_protocol", "must be tls or raw_buffer");
      ok = false;
    }
    out->transport_protocol = match.transport_protocol();
  }
  if (chain.has_transport_socket() &&
      !transportSocketFrom(chain.transport_socket(), true, cpath + ".transport_socket", secrets,
                           errors, &out->tls)) {
    ok = false;
  }
  // Optionally envoy.filters.network.rbac, then the terminal filter.
  int terminal = 0;
  if (chain.filters_size() == 2 && chain.filters(0).has_typed_config() &&
      typeName(chain.filters(0).typed_config()) ==
          "envoy.extensions.filters.network.rbac.v3.RBAC") {
    envoy::extensions::filters::network::rbac::v3::RBAC config;
    chain.filters(0).typed_config().UnpackTo(&config);
    std::string rpath = cpath + ".filters[0].typed_config";
    if (config.has_shadow_rules() ||
        config.enforcement_type() !=
            envoy::extensions::filters::network::rbac::v3::RBAC::ONE_TIME_ON_FIRST_BYTE) {
      errors.add(rpath, "only rules with ONE_TIME_ON_FIRST_BYTE enforcement are supported");
      ok = false;
    }
    if (config.has_rules() && !rbacFrom(config.rules(), rpath + ".rules", &out->tcp_rbac, errors)) {
      ok = false;
    }
    terminal = 1;
  }
  if (chain.filters_size() != terminal + 1) {
    errors.add(cpath + ".filters",
               "one terminal network filter (http_connection_manager or tcp_proxy) is supported, "
               "optionally after envoy.filters.network.rbac");
    return false;
  }
  const auto& filter = chain.filters(terminal);
  std::string fpath = cpath + ".filters[" + std::to_string(terminal) + "]";
  if (!filter.has_typed_config()) {
    errors.add(fpath + ".typed_config", "is required");
    return false;
  }
  std::string type = typeName(filter.typed_config());
  if (type == hcm_v3::HttpConnectionManager::descriptor()->full_name()) {
    if (!filter.name().empty() && filter.name() != kHcmName &&
        filter.name() != "envoy.http_connection_manager") {
      errors.add(fpath + ".name", "'" + filter.name() + "' does not match its typed_config");
      ok = false;
    }
    hcm_v3::HttpConnectionManager hcm;
    filter.typed_config().UnpackTo(&hcm);
    std::string hpath = fpath + ".typed_config";
    out->is_http = true;
    if (out->tcp_rbac) {
      errors.add(cpath + ".filters[0]",
                 "with the HTTP connection manager, use the envoy.filters.http.rbac HTTP filter");
      ok = false;
    }
    out->http.stat_prefix = hcm.stat_prefix();
    switch (hcm.codec_type()) {
      case hcm_v3::HttpConnectionManager::AUTO:
        out->http.codec = config::CodecType::kAuto;
        break;
      case hcm_v3::HttpConnectionManager::HTTP1:
        out->http.codec = config::CodecType::kHttp1;
        break;
      case hcm_v3::HttpConnectionManager::HTTP2:
        out->http.codec = config::CodecType::kHttp2;
        break;
      default:
        errors.add(hpath + ".codec_type", "only AUTO, HTTP1 and HTTP2 are supported");
        ok = false;
    }
    if (hcm.has_max_request_headers_kb()) {
      out->http.max_request_headers_bytes = hcm.max_request_headers_kb().value() * 1024;
    }
    if (!httpFilterFrom(hcm, hpath, errors, &out->http.fault, &out->http.rbac)) ok = false;
    out->http.forward_client_cert =
        static_cast<config::ForwardClientCert>(hcm.forward_client_cert_details());
    if (hcm.forward_client_cert_details() > hcm_v3::HttpConnectionManager::ALWAYS_FORWARD_ONLY) {
      errors.add(hpath + ".forward_client_cert_details", "unknown value");
      ok = false;
    }
    const auto& details = hcm.set_current_client_cert_details();
    out->http.xfcc_uri = details.uri();
    if (details.subject().value() || details.cert() || details.chain() || details.dns()) {
      errors.add(hpath + ".set_current_client_cert_details",
                 "only uri is supported (By and Hash are always set)");
      ok = false;
    }
    if (hcm.has_rds()) {
      if (routes == nullptr) {
        errors.add(hpath + ".rds", "RDS needs dynamic_resources with ads_config");
        ok = false;
      } else if (!hcm.rds().config_source().has_ads()) {
        errors.add(hpath + ".rds.config_source", "only ads: {} is supported");
        ok = false;
      } else if (hcm.rds().route_config_name().empty()) {
        errors.add(hpath + ".rds.route_config_name", "is required");
        ok = false;
      } else {
        out->http.rds_name = hcm.rds().route_config_name();
        out->http.routes = (*routes)(out->http.rds_name);
      }
    } else if (hcm.has_route_config()) {
      auto table = translateRouteConfiguration(hcm.route_config(), hpath + ".route_config", errors);
      if (table == nullptr) ok = false;
      out->http.routes = std::move(table);
    } else {
      errors.add(hpath, "route_config is required");
      ok = false;
    }
    for (const auto& upgrade : hcm.upgrade_configs()) {
      std::string type_name = upgrade.upgrade_type();
      http::toLowerInPlace(type_name);
      bool enabled = !upgrade.has_enabled() || upgrade.enabled().value();
      if (enabled) out->http.upgrade_types.push_back(type_name);
    }
    if (hcm.has_common_http_protocol_options()) {
      const auto& common = hcm.common_http_protocol_options();
      if (common.has_idle_timeout()) out->http.idle_timeout_ms = durationMs(common.idle_timeout());
      if (common.has_max_headers_count()) {
        out->http.max_headers_count = common.max_headers_count().value();
        if (out->http.max_headers_count == 0) {
          errors.add(hpath + ".common_http_protocol_options.max_headers_count", "must be >= 1");
          ok = false;
        }
      }
      if (common.has_max_connection_duration() || common.has_max_stream_duration()) {
        errors.add(hpath + ".common_http_protocol_options",
                   "only idle_timeout and max_headers_count are implemented by weft yet");
        ok = false;
      }
    }
    if (hcm.has_stream_idle_timeout()) {
      out->http.stream_idle_timeout_ms = durationMs(hcm.stream_idle_timeout());
    }
    if (hcm.has_request_timeout()) out->http.request_timeout_ms = durationMs(hcm.request_timeout());
    if (hcm.has_request_headers_timeout()) {
      out->http.request_headers_timeout_ms = durationMs(hcm.request_headers_timeout());
    }
    out->http.use_remote_address = hcm.use_remote_address().value();
    out->http.skip_xff_append = hcm.skip_xff_append();
    out->http.xff_num_trusted_hops = hcm.xff_num_trusted_hops();
    if ((hcm.skip_xff_append() || hcm.xff_num_trusted_hops() > 0) &&
        !hcm.use_remote_address().value()) {
      // Accepting them would do nothing: x-forwarded-for is only touched at the edge.
      errors.add(hpath + (hcm.skip_xff_append() ? ".skip_xff_append" : ".xff_num_trusted_hops"),
                 "has an effect only with use_remote_address: true");
      ok = false;
    }
    if (!translateAccessLogs(hcm.access_log(), hpath + ".access_log",
                             runtime ? runtime->access_logs : nullptr, &out->http.access_logs,
                             errors)) {
      ok = false;
    }
    if (hcm.has_tracing()) {
      out->http.tracing = translateTracing(hcm.tracing(), hpath + ".tracing",
                                           runtime ? runtime->tracers : nullptr, errors);
      if (out->http.tracing == nullptr) ok = false;
    }
    if (hcm.has_http2_protocol_options()) {
      ok &= translateHttp2Options(hcm.http2_protocol_options(), hpath + ".http2_protocol_options",
                                  &out->http.allow_connect, errors);
    }
    for (const char* unsupported : {"drain_timeout", "server_name", "http_protocol_options"}) {
      const auto* field = hcm.GetDescriptor()->FindFieldByName(unsupported);
      bool set = field->is_repeated() ? hcm.GetReflection()->FieldSize(hcm, field) > 0
                                      : hcm.GetReflection()->HasField(hcm, field);
      if (set) {
        errors.add(hpath + "." + unsupported, "not implemented by weft yet");
        ok = false;
      }
    }
  } else if (type == tcp_v3::TcpProxy::descriptor()->full_name()) {
    tcp_v3::TcpProxy tcp;
    filter.typed_config().UnpackTo(&tcp);
    out->is_http = false;
    out->tcp_cluster = tcp.cluster();
    if (tcp.cluster().empty()) {
      errors.add(fpath + ".typed_config.cluster", "is required");
      ok = false;
    }
    if (tcp.has_idle_timeout()) out->tcp_idle_timeout_ms = durationMs(tcp.idle_timeout());
    if (!translateAccessLogs(tcp.access_log(), fpath + ".typed_config.access_log",
                             runtime ? runtime->access_logs : nullptr, &out->tcp_access_logs,
                             errors)) {
      ok = false;
    }
  } else {
    errors.add(fpath + ".typed_config", "unsupported network filter type '" + type + "'");
    ok = false;
  }
  return ok;
}
}  // namespace

std::vector<std::string> rdsNames(const listener_v3::Listener& proto) {
  std::vector<std::string> names;
  auto collect = [&](const listener_v3::FilterChain& chain) {
    for (const auto& filter : chain.filters()) {
      hcm_v3::HttpConnectionManager hcm;
      if (filter.has_typed_config() && filter.typed_config().UnpackTo(&hcm) && hcm.has_rds()) {
        names.push_back(hcm.rds().route_config_name());
      }
    }
  };
  for (const auto& chain : proto.filter_chains()) collect(chain);
  if (proto.has_default_filter_chain()) collect(proto.default_filter_chain());
  return names;
}

bool translateListener(const listener_v3::Listener& proto, const std::string& path,
                       config::ListenerConfig* out, common::ErrorList& errors,
                       const RouteResolver* routes, const SecretResolver* secrets,
                       const RuntimeFactories* runtime) {
  bool ok = true;
  out->name = proto.name();
  if (proto.name().empty()) {
    errors.add(path + ".name", "listener name is required");
    ok = false;
  }
  if (!addressFrom(proto.address(), path + ".address", &out->address, errors)) ok = false;
  for (int i = 0; i < proto.listener_filters_size(); ++i) {
    const auto& lf = proto.listener_filters(i);
    if (lf.name() == kHttpInspectorName ||
        (lf.has_typed_config() &&
         typeName(lf.typed_config()) ==
             "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector")) {
      out->inspect_http = true;
    } else if (lf.name() == kTlsInspectorName ||
               (lf.has_typed_config() &&
                typeName(lf.typed_config()) ==
                    "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector")) {
      out->inspect_tls = true;
    } else {
      errors.add(path + ".listener_filters[" + std::to_string(i) + "]",
                 "unsupported listener filter '" + lf.name() + "' (weft has " + kHttpInspectorName +
                     ", " + kTlsInspectorName + ")");
      ok = false;
    }
  }
  if (proto.has_listener_filters_timeout()) {
    out->inspect_timeout_ms = durationMs(proto.listener_filters_timeout());
  }
  out->use_original_dst = proto.has_use_original_dst() && proto.use_original_dst().value();
  out->bind_to_port = !proto.has_bind_to_port() || proto.bind_to_port().value();
  if (proto.has_api_listener()) {
    errors.add(path + ".api_listener", "not supported");
    ok = false;
  }
  if (proto.has_per_connection_buffer_limit_bytes()) {
    out->buffer_limit_bytes = proto.per_connection_buffer_limit_bytes().value();
  }
  if (proto.filter_chains_size() == 0 && !proto.has_default_filter_chain()) {
    errors.add(path + ".filter_chains", "at least one filter chain is required");
    return false;
  }
  config::TrafficDirection direction = config::TrafficDirection::kUnspecified;
  switch (proto.traffic_direction()) {
    case envoy::config::core::v3::INBOUND:
      direction = config::TrafficDirection::kInbound;
      break;
    case envoy::config::core::v3::OUTBOUND:
      direction = config::TrafficDirection::kOutbound;
      break;
    case envoy::config::core::v3::UNSPECIFIED:
      break;
    default:
      errors.add(path + ".traffic_direction",
                 "unknown value " + std::to_string(proto.traffic_direction()));
      ok = false;
  }
  for (int i = 0; i < proto.filter_chains_size(); ++i) {
    config::FilterChainConfig chain;
    chain.direction = direction;
    if (translateFilterChain(proto.filter_chains(i),
                             path + ".filter_chains[" + std::to_string(i) + "]", &chain, errors,
                             routes, secrets, runtime)) {
      out->filter_chains.push_back(std::move(chain));
    } else {
      ok = false;
    }
  }
  if (proto.has_default_filter_chain()) {
    config::FilterChainConfig chain;
    chain.direction = direction;
    if (translateFilterChain(proto.default_filter_chain(), path + ".default_filter_chain", &chain,
                             errors, routes, secrets, runtime)) {
      out->default_filter_chain = std::move(chain);
    } else {
      ok = false;
    }
  }
  return ok;
}

}  // namespace weft::translate
