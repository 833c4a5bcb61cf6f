#pragma once

// The proxy's whole configuration at one instant, immutable once built.
// Workers hold a shared_ptr to the current snapshot; a new config is a new
// snapshot swapped in by the main thread, so the request path takes no locks.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/network/address.h"
#include "common/tls/tls_context.h"
#include "proxy/access_log/access_log_sink.h"
#include "proxy/access_log/formatter.h"
#include "proxy/config/cluster_config.h"
#include "proxy/config/route_table.h"
#include "proxy/rbac/rbac_engine.h"
#include "proxy/tracing/stream_tracer.h"

namespace weft::config {

enum class CodecType { kAuto, kHttp1, kHttp2 };

enum class ForwardClientCert {
  kSanitize,
  kForwardOnly,
  kAppendForward,
  kSanitizeSet,
  kAlwaysForwardOnly
};

// One access log: how a line is made and where it goes (the sink is shared
// runtime state; the same path in the next push is the same sink).
struct AccessLogConfig {
  std::shared_ptr<const access_log::Formatter> formatter;
  std::shared_ptr<access_log::AccessLogSink> sink;
  std::string path;  // for the config dump and errors
};

// One line per configured log for the stream or connection `record` describes.
inline void writeAccessLogs(const std::vector<AccessLogConfig>& logs,
                            const access_log::AccessLogRecord& record) {
  std::string line;
  for (const AccessLogConfig& log : logs) {
    line.clear();
    log.formatter->format(record, &line);
    log.sink->write(line);
  }
}

struct HttpListenerSettings {
  std::shared_ptr<const RouteTable> routes;
  CodecType codec = CodecType::kAuto;
  size_t max_request_headers_bytes = 60 * 1024;
  // common_http_protocol_options.max_headers_count (Envoy's default 100):
  // a request with more header fields gets 431, on either codec.
  uint32_t max_headers_count = 100;
  std::string stat_prefix;
  // upgrade_configs: Upgrade tokens (lower case, e.g. "websocket", "connect"
  // for CONNECT) tunnelled as raw bytes after the upgrade response.
  std::vector<std::string> upgrade_types;
  // http2_protocol_options.allow_connect: HTTP/2 clients may send those
  // upgrades as RFC 8441 extended CONNECTs.
  bool allow_connect = false;
  std::string rds_name;  // set when the routes come from RDS
  // A downstream connection with no request in flight closes after this
  // (common_http_protocol_options.idle_timeout; Envoy's default 1 h; 0: never).
  uint64_t idle_timeout_ms = 3600000;
  // A stream with no activity either way for this long ends: 408 before the
  // response started, a reset after (stream_idle_timeout; Envoy's default
  // 5 min; 0: never). Guards against peers that stall a stream forever.
  uint64_t stream_idle_timeout_ms = 300000;
  // The whole request must arrive within this (request_timeout; 0: no limit,
  // as in Envoy): a slow-body client gets 408.
  uint64_t request_timeout_ms = 0;
  // A request's headers must be complete this long after its first byte
  // (request_headers_timeout; 0: no limit, as in Envoy; weft-control sets
  // 10 s): slowloris clients holding connections with a byte now and then
  // are cut with 408.
  uint64_t request_headers_timeout_ms = 0;
  // use_remote_address: the downstream is the mesh edge (the app, or a peer
  // outside the mesh): its x-envoy-* and x-weft-* headers are removed (only
  // the mesh sets them), x-forwarded-proto is the connection's, and its
  // address is appended to x-forwarded-for unless skip_xff_append.
  bool use_remote_address = false;
  bool skip_xff_append = false;
  // With use_remote_address: x-envoy-external-address is the address this
  // many hops from the right of x-forwarded-for (0: the peer itself).
  uint32_t xff_num_trusted_hops = 0;
  std::optional<config::FaultConfig> fault;  // the envoy.filters.http.fault filter
  // x-forwarded-client-cert (Envoy's forward_client_cert_details).
  ForwardClientCert forward_client_cert = ForwardClientCert::kSanitize;
  bool xfcc_uri = false;                     // set_current_client_cert_details.uri
  rbac::RbacEnginePtr rbac;                  // envoy.filters.http.rbac: 403 for what it refuses
  std::vector<AccessLogConfig> access_logs;  // one line each per finished stream
  // tracing: a span per stream at this hop when sampled; nullptr: no tracing
  // (the propagation headers pass through untouched).
  std::shared_ptr<const tracing::TracingConfig> tracing;
};

// One filter chain: the terminal network filter (HTTP connection manager or
// TCP proxy) and what a connection must look like to use it.
// The listener's traffic_direction: which reporter of Istio's metrics a
// sidecar is on it ("destination" inbound, "source" outbound; none when
// unspecified, e.g. a plain reverse proxy).
enum class TrafficDirection { kUnspecified, kInbound, kOutbound };

struct FilterChainConfig {
  std::string name;
  TrafficDirection direction = TrafficDirection::kUnspecified;  // the listener's, copied
  std::optional<uint16_t> destination_port;        // filter_chain_match.destination_port
  std::vector<std::string> application_protocols;  // "http/1.1", "http/1.0", "h2c"
  std::string transport_protocol;                  // "tls", "raw_buffer" or "" (any)
  tls::TlsContextPtr tls;                          // terminate TLS (transport_socket)
  // Hash of the FilterChain as configured: connections opened on it drain
  // when an update changes it (authorization, TLS, connection settings
  // must not linger on old connections).
  std::string fingerprint;
  // The same with the RBAC filters' rules left out: a connection whose chain
  // an update changed only in these keeps going under the new rules
  // (re-checked at once: what they deny is cut), so a long-lived stream
  // (WebSocket, gRPC stream) outlives pushes that do not concern it.
  std::string fingerprint_without_rbac;
  bool is_http = true;
  HttpListenerSettings http;
  std::string tcp_cluster;  // when !is_http
  // tcp_proxy.idle_timeout: a connection with no bytes either way this long
  // is closed (Envoy's default 1 h; 0: never).
  uint64_t tcp_idle_timeout_ms = 3600000;
  rbac::RbacEnginePtr tcp_rbac;                  // envoy.filters.network.rbac before tcp_proxy
  std::vector<AccessLogConfig> tcp_access_logs;  // one line each per closed connection
};

struct ListenerConfig {
  std::string name;
  network::Address address;
  std::vector<FilterChainConfig> filter_chains;
  std::optional<FilterChainConfig> default_filter_chain;
  // envoy.filters.listener.http_inspector: sniff the first bytes to tell
  // HTTP/1, HTTP/2 (preface) and opaque TCP apart.
  bool inspect_http = false;
  // envoy.filters.listener.tls_inspector: tell TLS from plaintext.
  bool inspect_tls = false;
  // How long to wait for the client's first bytes before deciding "not
  // HTTP" (server-speaks-first protocols send nothing).
  uint64_t inspect_timeout_ms = 100;
  uint32_t buffer_limit_bytes = 1024 * 1024;
  // Transparent interception: a connection redirected here (iptables
  // REDIRECT) is handed to the listener bound to its original destination
  // (exact address, else 0.0.0.0 with the same port), when there is one.
  bool use_original_dst = false;
  // false: a "virtual" listener that only receives such hand-offs.
  bool bind_to_port = true;

  // The chain for a connection to `destination_port` whose first bytes were
  // a TLS ClientHello (`tls`) or not, offering `application_protocols` (TLS:
  // its ALPN list; plaintext: the HTTP version detected, or none); nullptr
  // when none matches. A chain's application_protocols match when one of
  // them is on offer (Envoy's rule).
  const FilterChainConfig* selectChain(
      uint16_t destination_port, bool tls = false,
      const std::vector<std::string>& application_protocols = {}) const;
  // True when some candidate chain for this port depends on the protocol.
  bool needsInspection(uint16_t destination_port) const;
};

struct Snapshot {
  std::vector<ListenerConfig> listeners;
  std::map<std::string, ClusterConfigPtr> clusters;
  // RDS route tables by name, shared with the listeners that use them.
  std::map<std::string, std::shared_ptr<const RouteTable>> route_tables;
  std::string admin_address = "127.0.0.1";
  uint16_t admin_port = 15000;
  std::string node_id;
  std::string config_dump_json;  // what /config_dump serves

  // The listener a connection redirected to a use_original_dst listener
  // belongs to: a virtual listener (bind_to_port false) for exactly
  // `destination`, else for 0.0.0.0 / :: with its port; -1 when none.
  int listenerForOriginalDestination(const network::Address& destination) const;

  const ClusterConfig* cluster(const std::string& name) const {
    auto it = clusters.find(name);
    return it == clusters.end() ? nullptr : it->second.get();
  }
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace weft::config
