#pragma once

// The mesh configuration weft-control reads: standard Kubernetes kinds where
// one exists (Service, EndpointSlice, Gateway API HTTPRoute) and weft.dev
// kinds for the rest. Only the fields weft uses are kept.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace weft::control {

struct ObjectMeta {
  std::string name;
  std::string ns = "default";
  // RFC 3339 as the API server writes it (so it sorts as text); empty for
  // objects from files. Gateway API route precedence breaks ties by it.
  std::string creation_timestamp;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string origin;  // "FILE (document N)": where it came from, for errors
};

struct ServicePort {
  std::string name;
  uint16_t port = 0;
  uint16_t target_port = 0;  // numeric targetPort (defaults to port)
  std::string protocol = "TCP";
  std::string app_protocol;  // "http", "http2", "grpc", "tcp", ...
};

struct Service {
  ObjectMeta meta;
  std::string cluster_ip;
  std::vector<ServicePort> ports;
  // type: ExternalName: a DNS name outside the cluster (no pods, no
  // EndpointSlices); its clusters resolve it (STRICT_DNS).
  std::string external_name;
};

struct Endpoint {
  std::vector<std::string> addresses;
  bool ready = true;
  std::string pod_name;  // targetRef.name when targetRef.kind is Pod
  // A headless Service's member name (a StatefulSet pod's hostname): its DNS
  // name is HOSTNAME.SERVICE.NAMESPACE.svc.cluster.local.
  std::string hostname;
};

struct EndpointPort {
  std::string name;
  uint16_t port = 0;
};

struct EndpointSlice {
  ObjectMeta meta;
  std::string service_name;  // label kubernetes.io/service-name
  std::vector<Endpoint> endpoints;
  std::vector<EndpointPort> ports;
};

struct HttpRouteMatch {
  std::string path_type = "PathPrefix";  // PathPrefix, Exact, RegularExpression
  std::string path_value = "/";
  // A header or query parameter match (HTTPHeaderMatch, HTTPQueryParamMatch).
  struct Header {
    std::string type = "Exact";  // Exact, RegularExpression
    std::string name;
    std::string value;
  };
  std::vector<Header> headers;
  std::vector<Header> query_params;
  std::string method;
  // GRPCRoute's method match (GRPCMethodMatch), which becomes a :path match
  // ("/SERVICE/METHOD"); an HTTPRoute's matches never have one.
  struct GrpcMethod {
    std::string type = "Exact";  // Exact, RegularExpression
    std::string service;         // empty: any service
    std::string method;          // empty: any method
  };
  std::optional<GrpcMethod> grpc_method;
};

// RequestHeaderModifier / ResponseHeaderModifier.
struct HeaderModifier {
  std::vector<std::pair<std::string, std::string>> set;  // replaces
  std::vector<std::pair<std::string, std::string>> add;  // appends
  std::vector<std::string> remove;
};

// URLRewrite's and RequestRedirect's path (HTTPPathModifier).
struct PathModifier {
  std::string type;  // ReplaceFullPath, ReplacePrefixMatch
  std::string value;
};

struct BackendRef {
  std::string name;
  std::string ns;  // empty: the route's namespace
  uint16_t port = 0;
  int64_t weight = 1;
  // backendRefs[].filters: header modifiers applied when this backend is picked.
  std::optional<HeaderModifier> request_headers;
  std::optional<HeaderModifier> response_headers;
};

struct UrlRewrite {
  std::string hostname;
  std::optional<PathModifier> path;
};

struct RequestRedirect {
  std::string scheme;    // http, https; empty: the request's
  std::string hostname;  // empty: the request's
  std::optional<uint16_t> port;
  std::optional<PathModifier> path;
  int status_code = 302;
};

struct RequestMirror {
  BackendRef backend;
  uint32_t per_million = 1000000;  // percent or fraction, as a share of a million
  size_t filter_index = 0;         // its place in the rule's filters, for errors
};

// GEP-1731 retries, plus what the Gateway API cannot say yet, from the
// HTTPRoute's weft.dev annotations (retry-on conditions).
struct HttpRouteRetry {
  std::optional<uint32_t> attempts;
  std::vector<uint32_t> codes;
  std::optional<uint64_t> backoff_ms;
};

struct HttpRouteRule {
  std::vector<HttpRouteMatch> matches;
  std::vector<BackendRef> backend_refs;
  // filters[], by type (each at most once, RequestMirror any number).
  std::optional<HeaderModifier> request_headers;
  std::optional<HeaderModifier> response_headers;
  std::optional<UrlRewrite> url_rewrite;
  std::optional<RequestRedirect> redirect;
  std::vector<RequestMirror> mirrors;
  std::optional<uint64_t> request_timeout_ms;
  std::optional<uint64_t> backend_request_timeout_ms;
  std::optional<HttpRouteRetry> retry;
};

struct ParentRef {
  std::string kind = "Gateway";
  std::string group;
  std::string name;
  std::string ns;            // empty: the route's namespace
  uint16_t port = 0;         // 0: every port of the Service
  std::string section_name;  // a Service port's name; empty: every port
};

// A parent (by its index in parentRefs) that does not take the route on one
// port: an HTTPRoute and a GRPCRoute there route intersecting hostnames, and
// the Gateway API accepts only the older of the two.
struct RouteConflict {
  size_t parent_index = 0;
  uint16_t port = 0;
  std::string message;
};

// An HTTPRoute, or a GRPCRoute read into the same shape: its method matches
// become path matches, and it has no path, query or redirect fields.
struct HttpRoute {
  enum class Kind { kHttp, kGrpc };
  Kind kind = Kind::kHttp;
  const char* kindName() const { return kind == Kind::kGrpc ? "GRPCRoute" : "HTTPRoute"; }
  ObjectMeta meta;
  std::vector<ParentRef> parent_refs;
  // Requests whose Host (without its port) is one of these ("*.example.com":
  // any name under it); empty: any.
  std::vector<std::string> hostnames;
  std::vector<HttpRouteRule> rules;
  // Set by validation, not read from the object.
  std::vector<RouteConflict> conflicts;

  // Whether parentRefs[i] names `port` of `svc`: the Service by namespace
  // and name, then the port by number or by name (sectionName); neither
  // given: every port.
  bool parentNames(size_t i, const Service& svc, const ServicePort& port) const;
  // Whether the route applies on `port` of `svc`: a parent names it there
  // and no conflict took it away.
  bool attachesTo(const Service& svc, const ServicePort& port) const;
};

// weft.dev/v1alpha1 AuthorizationPolicy: which workload identities may call
// a Service (optionally which paths and methods). Once any policy selects a
// Service, what no rule allows is denied.
struct AuthorizationRule {
  std::vector<std::string> from_identities;  // SPIFFE IDs as given
  // {namespace, service account}; an empty service account: the whole
  // namespace. Made SPIFFE IDs with the mesh's trust domain when translated.
  std::vector<std::pair<std::string, std::string>> from_accounts;
  std::vector<std::string> paths;    // "/exact", "/prefix/*", or "*"
  std::vector<std::string> methods;  // upper case; empty: any
};

struct AuthorizationPolicy {
  ObjectMeta meta;
  std::string service;  // spec.targetRef.name, in the policy's namespace
  std::vector<AuthorizationRule> rules;
  // It failed validation and has no valid version to fall back on: it
  // denies everything to its Service (fail closed) until fixed.
  bool invalid = false;
};

struct DestinationPolicy {
  ObjectMeta meta;
  std::string service;  // spec.targetRef.name: a Service in the same namespace
  std::string load_balancer = "ROUND_ROBIN";  // ROUND_ROBIN, LEAST_REQUEST, RING_HASH, MAGLEV
  // spec.consistentHash (RING_HASH / MAGLEV, required with them): what a
  // request is hashed on, exactly one of a header, a cookie (made up and set
  // on the response when the client has none and a ttl is given) or the
  // client's IP; Istio's DestinationRule consistentHash names.
  struct ConsistentHash {
    std::string http_header_name;
    struct Cookie {
      std::string name;
      std::string path;
      std::optional<uint64_t> ttl_ms;
    };
    std::optional<Cookie> http_cookie;
    bool use_source_ip = false;
    std::optional<uint64_t> minimum_ring_size;  // ringHash.minimumRingSize
    std::optional<uint64_t> table_size;         // maglev.tableSize
    bool operator==(const ConsistentHash& o) const {
      return http_header_name == o.http_header_name && use_source_ip == o.use_source_ip &&
             http_cookie.has_value() == o.http_cookie.has_value() &&
             (!http_cookie || (http_cookie->name == o.http_cookie->name &&
                               http_cookie->path == o.http_cookie->path &&
                               http_cookie->ttl_ms == o.http_cookie->ttl_ms));
    }
  };
  std::optional<ConsistentHash> consistent_hash;
  std::optional<uint32_t> max_connections;
  std::optional<uint32_t> max_pending_requests;
  std::optional<uint32_t> max_requests;
  std::optional<uint64_t> connect_timeout_ms;
  std::optional<uint32_t> max_retries;
  // Retry budget: share of active requests (percent) and a minimum.
  std::optional<double> retry_budget_percent;
  std::optional<uint32_t> min_retry_concurrency;
  struct Outlier {
    std::optional<uint32_t> consecutive_5xx;
    std::optional<uint32_t> consecutive_gateway_failures;
    std::optional<uint64_t> interval_ms;
    std::optional<uint64_t> base_ejection_time_ms;
    std::optional<uint32_t> max_ejection_percent;
  };
  std::optional<Outlier> outlier_detection;
  // spec.tls (ExternalName Services only): originate TLS to the external
  // host, verified against `subject_alt_names` (default: the external name)
  // with the CAs in `ca_certificates` (a file in the proxy's filesystem;
  // default: the image's system bundle). Istio's DestinationRule tls SIMPLE.
  struct Tls {
    std::string sni;  // default: the external name
    std::vector<std::string> subject_alt_names;
    std::string ca_certificates;
  };
  std::optional<Tls> tls;
};

struct MeshConfig {
  ObjectMeta meta;
  std::string trust_domain = "cluster.local";
  std::string mtls_mode = "PERMISSIVE";
  // Per-namespace overrides of mtls_mode (spec.mtls.namespaces).
  std::map<std::string, std::string> mtls_mode_by_namespace;
  // The mode that applies to workloads (servers) in `ns`.
  const std::string& mtlsModeFor(const std::string& ns) const {
    auto it = mtls_mode_by_namespace.find(ns);
    return it == mtls_mode_by_namespace.end() ? mtls_mode : it->second;
  }
  uint64_t certificate_lifetime_s = 24 * 3600;
  // How long a sidecar waits for a client's first bytes on a port with no
  // declared protocol before proxying it as TCP (a server-speaks-first
  // protocol sends nothing first); Istio's protocolDetectionTimeout.
  uint64_t protocol_detection_timeout_ms = 100;
  // Access logs of the sidecars: "Off" (default), "Text" (Envoy's default
  // line) or "JSON" (one JSON object per request / connection), on stdout;
  // per-namespace overrides in spec.accessLog.namespaces.
  std::string access_log_mode = "Off";
  std::map<std::string, std::string> access_log_mode_by_namespace;
  const std::string& accessLogModeFor(const std::string& ns) const {
    auto it = access_log_mode_by_namespace.find(ns);
    return it == access_log_mode_by_namespace.end() ? access_log_mode : it->second;
  }
  // Tracing (spec.tracing): every sidecar's HTTP connection managers trace
  // to this collector, "HOST:PORT" (OTLP/gRPC) or "http://HOST:PORT[/PATH]"
  // (OTLP/HTTP, path default /v1/traces); HOST a Service "name.namespace"
  // (or its FQDN) or an IP; empty: off. sampling: the percentage of new traces
  // (Istio's default 1%); a caller's own decision always wins.
  std::string tracing_collector;
  double tracing_sampling_percent = 1.0;
  // Proxies that may only reach these hosts ("ns/*", "ns/name", "./name"):
  // keyed by "NAMESPACE" or, more specific, "NAMESPACE/SERVICE_ACCOUNT".
  std::map<std::string, std::vector<std::string>> egress_by_namespace;
};

struct ConfigError {
  std::string origin;  // file and document
  std::string object;  // "Kind ns/name"
  std::string field;   // path within the object
  std::string message;
  // From the HTTPRoute/GRPCRoute conflict pass, which runs again once last
  // valid versions are back (they may change who is older).
  bool route_conflict = false;

  std::string toString() const;
};

// Everything read from one source at one instant, after validation: invalid
// objects are dropped (and reported in `errors`), the rest apply.
// An object weft writes status for (HTTPRoute, GRPCRoute, DestinationPolicy,
// AuthorizationPolicy), as the user wrote it: recorded before strict decoding,
// so an object refused for a bad field still gets a status saying why.
struct StatusSubject {
  std::string kind;  // "HTTPRoute", ...
  std::string api_version;
  std::string ns, name;
  int64_t generation = 0;        // metadata.generation (0 in files)
  std::string resource_version;  // metadata.resourceVersion (Kubernetes only)
  // spec.parentRefs, read leniently (routes).
  struct ParentRef {
    std::string group, kind = "Service", ns, name, section_name;
    int64_t port = 0;
  };
  std::vector<ParentRef> parent_refs;
  std::string status_json;  // the object's status as the API server has it ("" in files)

  std::string key() const { return kind + " " + ns + "/" + name; }
};

struct ConfigSet {
  std::vector<Service> services;
  std::vector<EndpointSlice> endpoint_slices;
  std::vector<HttpRoute> http_routes;
  // GRPCRoutes, apart from HTTPRoutes: one of each kind may share a name.
  std::vector<HttpRoute> grpc_routes;
  std::vector<DestinationPolicy> destination_policies;
  std::vector<AuthorizationPolicy> authorization_policies;
  MeshConfig mesh;
  // The mesh CA's trust bundle (PEM), served to proxies as the secret ROOTCA.
  std::string trust_bundle_pem;
  std::vector<ConfigError> errors;
  std::vector<StatusSubject> status_subjects;

  const Service* findService(const std::string& ns, const std::string& name) const;
};

}  // namespace weft::control
