#include "controlplane/xds/translator.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "controlplane/config/config_dir.h"
#include "controlplane/config/parser.h"
#include "controlplane/config/validate.h"
#include "controlplane/xds/resource_builders.h"
#include "controlplane/xds/tracing_translation.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/config/trace/v3/opentelemetry.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace weft::control {
namespace {

const char kMesh[] = R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec: {ports: [{name: tcp-pg, port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-canary, namespace: shop}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{kind: Service, name: web}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: web, port: 80, weight: 9}, {name: web-canary, port: 80, weight: 1}]
  - matches: [{path: {type: Exact, value: /health}}]
    backendRefs: [{name: web, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /api/v2}}]
    backendRefs: [{name: web-canary, port: 80}]
---
apiVersion: weft.dev/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec:
  egress:
  - {namespace: shop, hosts: ["./*"]}
  - {namespace: shop, serviceAccount: reporting, hosts: ["data/db", "./web"]}
)";

ConfigSet mesh() {
  ConfigSet set;
  parseYamlDocuments(kMesh, "mesh.yaml", set);
  validateConfig(set);
  EXPECT_TRUE(set.errors.empty()) << set.errors[0].toString();
  return set;
}

ProxyIdentity proxy(const std::string& id, const std::string& sa) {
  envoy::config::core::v3::Node node;
  node.set_id(id);
  (*node.mutable_metadata()->mutable_fields())["SERVICE_ACCOUNT"].set_string_value(sa);
  return ProxyIdentity::fromNode(node);
}

TEST(TranslatorTest, RoutesFollowGatewayApiPrecedence) {
  ConfigSet set = mesh();
  auto r = translateForProxy(set, proxy("client.other", "default"), {});
  envoy::config::route::v3::RouteConfiguration routes;
  ASSERT_TRUE(r->by_type[kRds].at("outbound").any.UnpackTo(&routes));
  const envoy::config::route::v3::VirtualHost* web = nullptr;
  for (const auto& vh : routes.virtual_hosts()) {
    if (vh.name() == "web.shop.svc.cluster.local:80") web = &vh;
  }
  ASSERT_NE(web, nullptr);
  ASSERT_EQ(web->routes_size(), 4);                     // three rules + the default route
  EXPECT_EQ(web->routes(0).match().path(), "/health");  // exact first
  EXPECT_EQ(web->routes(1).match().path_separated_prefix(), "/api/v2");  // longest prefix
  EXPECT_EQ(web->routes(2).match().prefix(), "/");
  EXPECT_EQ(web->routes(2).route().weighted_clusters().clusters(1).name(),
            "outbound|80||web-canary.shop.svc.cluster.local");
  EXPECT_EQ(web->routes(2).route().weighted_clusters().clusters(1).weight().value(), 1u);
  EXPECT_EQ(web->routes(3).name(), "default");
  // An opaque port gets a cluster but no HTTP virtual host.
  EXPECT_EQ(r->by_type[kCds].count("outbound|5432||db.data.svc.cluster.local"), 1u);
}

TEST(TranslatorTest, AGrpcXdsClientGetsHeaderMatchersItReads) {
  ConfigSet set;
  parseYamlDocuments(std::string(kMesh) + R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: web-rpc, namespace: shop}
spec:
  parentRefs: [{kind: Service, name: web-canary}]
  rules:
  - matches:
    - headers: [{name: x-a, value: "1"}, {type: RegularExpression, name: x-b, value: "[0-9]+"}]
    backendRefs: [{name: web, port: 80}]
)",
                     "mesh.yaml", set);
  validateConfig(set);
  ASSERT_TRUE(set.errors.empty()) << set.errors[0].toString();
  auto headersOf = [&](const std::set<std::string>& api_listeners) {
    auto r = translateForProxy(set, proxy("client.other", "default"), api_listeners);
    envoy::config::route::v3::RouteConfiguration routes;
    EXPECT_TRUE(r->by_type[kRds].at("outbound").any.UnpackTo(&routes));
    for (const auto& vh : routes.virtual_hosts()) {
      if (vh.name() == "web-canary.shop.svc.cluster.local:80")
        return vh.routes(0).match().headers();
    }
    ADD_FAILURE() << "no web-canary virtual host";
    return google::protobuf::RepeatedPtrField<envoy::config::route::v3::HeaderMatcher>();
  };
  // A sidecar: string_match, Envoy's current field.
  auto sidecar = headersOf({});
  ASSERT_EQ(sidecar.size(), 2);
  EXPECT_EQ(sidecar[0].string_match().exact(), "1");
  // A gRPC xDS client (it asks for an API listener): the fields gRPC 1.51 reads.
  auto grpc = headersOf({"web-canary.shop"});
  ASSERT_EQ(grpc.size(), 2);
  EXPECT_FALSE(grpc[0].has_string_match());
  EXPECT_EQ(grpc[0].exact_match(), "1");
  EXPECT_EQ(grpc[1].safe_regex_match().regex(), "[0-9]+");
}

TEST(TranslatorTest, EgressNarrowsWhatAProxySees) {
  ConfigSet set = mesh();
  auto everyone = translateForProxy(set, proxy("a.other", "default"), {});
  EXPECT_EQ(everyone->by_type[kCds].size(), 3u);
  auto shop = translateForProxy(set, proxy("a.shop", "default"), {});
  EXPECT_EQ(shop->by_type[kCds].size(), 2u);  // ./*: web and web-canary
  EXPECT_EQ(shop->by_type[kCds].count("outbound|5432||db.data.svc.cluster.local"), 0u);
  auto reporting = translateForProxy(set, proxy("r.shop", "reporting"), {});
  EXPECT_EQ(reporting->by_type[kCds].size(), 2u);  // data/db and ./web
  EXPECT_EQ(reporting->by_type[kCds].count("outbound|5432||db.data.svc.cluster.local"), 1u);
  EXPECT_EQ(reporting->by_type[kCds].count("outbound|80||web.shop.svc.cluster.local"), 1u);
}

TEST(TranslatorTest, VersionsChangeOnlyWithContent) {
  ConfigSet set = mesh();
  auto a = translateForProxy(set, proxy("a.other", "default"), {});
  auto b = translateForProxy(set, proxy("a.other", "default"), {});
  for (int t = 0; t < kXdsTypeCount; ++t) EXPECT_EQ(a->version[t], b->version[t]);
  set.http_routes[0].rules[0].backend_refs[1].weight = 2;
  auto c = translateForProxy(set, proxy("a.other", "default"), {});
  EXPECT_NE(a->version[kRds], c->version[kRds]);
  EXPECT_EQ(a->version[kCds], c->version[kCds]);
}

}  // namespace
}  // namespace weft::control

namespace weft::control {
namespace {

TEST(TranslatorTest, GatewayApiRetriesBecomeARetryPolicy) {
  ConfigSet set;
  parseYamlDocuments(std::string(kMesh) + R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: db-route
  namespace: shop
  annotations: {weft.dev/retry-on: "connect-failure,reset"}
spec:
  parentRefs: [{kind: Service, name: web-canary}]
  rules:
  - retry: {attempts: 3, codes: [503, 504], backoff: 50ms}
    timeouts: {request: 2s, backendRequest: 500ms}
    backendRefs: [{name: web-canary, port: 80}]
)",
                     "mesh.yaml", set);
  validateConfig(set);
  ASSERT_TRUE(set.errors.empty()) << set.errors[0].toString();
  auto r = translateForProxy(set, proxy("a.other", "default"), {});
  envoy::config::route::v3::RouteConfiguration routes;
  ASSERT_TRUE(r->by_type[kRds].at("outbound").any.UnpackTo(&routes));
  for (const auto& vh : routes.virtual_hosts()) {
    if (vh.name() != "web-canary.shop.svc.cluster.local:80") continue;
    const auto& action = vh.routes(0).route();
    EXPECT_EQ(action.timeout().seconds(), 2);
    EXPECT_EQ(action.retry_policy().retry_on(), "retriable-status-codes,connect-failure,reset");
    EXPECT_EQ(action.retry_policy().num_retries().value(), 3u);
    EXPECT_EQ(action.retry_policy().retriable_status_codes_size(), 2);
    EXPECT_EQ(action.retry_policy().per_try_timeout().nanos(), 500000000);
    EXPECT_EQ(action.retry_policy().retry_back_off().base_interval().nanos(), 50000000);
    return;
  }
  FAIL() << "no virtual host for web-canary";
}

}  // namespace
}  // namespace weft::control

namespace weft::control {
namespace {

// With the CA on: meshed HTTP ports go sidecar-to-sidecar as HTTP/2 over
// mTLS pinned to the Service's namespace; TCP ports get mTLS without ALPN h2;
// a DISABLE namespace and an opted-out Service stay plaintext.
TEST(TranslatorTest, MeshTlsPerNamespaceMode) {
  ConfigSet set;
  parseYamlDocuments(R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{name: http, port: 80}, {name: tcp-x, port: 81}]}
---
apiVersion: v1
kind: Service
metadata: {name: legacy, namespace: shop, annotations: {weft.dev/mtls: disable}}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: weft.dev/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec: {mtls: {mode: STRICT, namespaces: {data: DISABLE}}}
)",
                     "mesh.yaml", set);
  validateConfig(set);
  ASSERT_TRUE(set.errors.empty()) << set.errors[0].toString();
  set.trust_bundle_pem = "-----BEGIN CERTIFICATE-----\n";  // any bundle turns mTLS on
  auto r = translateForProxy(set, proxy("client.other", "default"), {});
  auto cluster = [&](const std::string& name) {
    envoy::config::cluster::v3::Cluster c;
    EXPECT_TRUE(r->by_type[kCds].at(name).any.UnpackTo(&c)) << name;
    return c;
  };
  auto web = cluster("outbound|80||web.shop.svc.cluster.local");
  ASSERT_TRUE(web.has_transport_socket());
  // HTTP/2 between the sidecars, WebSocket upgrades as extended CONNECTs.
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
  ASSERT_TRUE(web.typed_extension_protocol_options()
                  .at("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
                  .UnpackTo(&options));
  EXPECT_TRUE(options.explicit_http_config().http2_protocol_options().allow_connect());
  EXPECT_NE(
      web.transport_socket().typed_config().value().find("spiffe://cluster.local/ns/shop/sa/"),
      std::string::npos);
  auto tcp = cluster("outbound|81||web.shop.svc.cluster.local");
  EXPECT_TRUE(tcp.has_transport_socket());
  EXPECT_EQ(tcp.typed_extension_protocol_options().size(), 0u);
  EXPECT_FALSE(cluster("outbound|80||legacy.shop.svc.cluster.local").has_transport_socket());
  EXPECT_FALSE(cluster("outbound|80||db.data.svc.cluster.local").has_transport_socket());
  EXPECT_EQ(r->by_type[kSds].count("ROOTCA"), 1u);
}

TEST(TranslatorTest, InterceptedPodGetsOriginalDestinationListeners) {
  ConfigSet set;
  parseYamlDocuments(R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 10.96.0.10
  ports: [{name: http, port: 80, targetPort: 8080}, {name: tcp-admin, port: 9000}]
---
apiVersion: v1
kind: Service
metadata: {name: web-canary, namespace: shop}
spec: {clusterIP: 10.96.0.11, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: peers, namespace: shop}
spec: {clusterIP: None, ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: shop
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, port: 8080}, {name: tcp-admin, port: 9000}]
endpoints:
- addresses: [10.244.1.7]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: web-0, namespace: shop}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{kind: Service, name: web, port: 80}]
  rules:
  - backendRefs: [{name: web, port: 80, weight: 9}, {name: web-canary, port: 80, weight: 1}]
---
apiVersion: weft.dev/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec: {mtls: {mode: STRICT}}
)",
                     "mesh.yaml", set);
  validateConfig(set);
  ASSERT_TRUE(set.errors.empty()) << set.errors[0].toString();
  set.trust_bundle_pem = "-----BEGIN CERTIFICATE-----\n";
  envoy::config::core::v3::Node node;
  node.set_id("web-0.shop");
  auto& fields = *node.mutable_metadata()->mutable_fields();
  fields["SERVICE_ACCOUNT"].set_string_value("web");
  fields["INTERCEPTION"].set_string_value("iptables");
  fields["INBOUND_PORT"].set_string_value("15006");
  auto r = translateForProxy(set, ProxyIdentity::fromNode(node), {});
  auto listener = [&](const std::string& name) {
    envoy::config::listener::v3::Listener l;
    EXPECT_EQ(r->by_type[kLds].count(name), 1u) << name;
    if (r->by_type[kLds].count(name)) r->by_type[kLds].at(name).any.UnpackTo(&l);
    return l;
  };
  // Where iptables sends the app's connections, and inbound ones.
  auto outbound = listener("outbound");
  EXPECT_EQ(outbound.address().socket_address().address(), "0.0.0.0");
  EXPECT_EQ(outbound.address().socket_address().port_value(), 15001u);
  EXPECT_TRUE(outbound.use_original_dst().value());
  EXPECT_EQ(r->by_type[kCds].count("PassthroughCluster"), 1u);
  auto inbound = listener("inbound");
  EXPECT_EQ(inbound.address().socket_address().port_value(), 15006u);
  EXPECT_TRUE(inbound.use_original_dst().value());
  // STRICT: what passes through inbound must be mTLS too.
  ASSERT_EQ(inbound.filter_chains_size(), 1);
  EXPECT_TRUE(inbound.filter_chains(0).has_transport_socket());
  // One virtual listener per cluster IP and port; none for the headless Service.
  auto http = listener("outbound|10.96.0.10_80");
  EXPECT_TRUE(http.has_bind_to_port());
  EXPECT_FALSE(http.bind_to_port().value());
  EXPECT_EQ(http.address().socket_address().address(), "10.96.0.10");
  EXPECT_EQ(listener("outbound|10.96.0.10_9000").filter_chains(0).filters(0).name(),
            "envoy.filters.network.tcp_proxy");
  EXPECT_EQ(listener("outbound|10.96.0.11_80").address().socket_address().port_value(), 80u);
  for (const auto& [name, resource] : r->by_type[kLds]) {
    EXPECT_EQ(name.find("None"), std::string::npos) << name;
  }
  // Its routes are the Service's (the canary split included), whatever the Host.
  envoy::config::route::v3::RouteConfiguration routes;
  ASSERT_TRUE(r->by_type[kRds].at("outbound|10.96.0.10_80").any.UnpackTo(&routes));
  ASSERT_EQ(routes.virtual_hosts_size(), 1);
  ASSERT_EQ(routes.virtual_hosts(0).domains_size(), 1);
  EXPECT_EQ(routes.virtual_hosts(0).domains(0), "*");
  EXPECT_EQ(routes.virtual_hosts(0).routes(0).route().weighted_clusters().clusters_size(), 2);
  // The pod's own ports: virtual too, as the app listens on them itself.
  auto app = listener("inbound|8080");
  EXPECT_FALSE(app.bind_to_port().value());
  EXPECT_EQ(app.address().socket_address().address(), "10.244.1.7");

  // The same proxy without interception keeps the explicit listener.
  fields.erase("INTERCEPTION");
  auto explicit_proxy = translateForProxy(set, ProxyIdentity::fromNode(node), {});
  EXPECT_EQ(explicit_proxy->by_type[kLds].count("outbound|10.96.0.10_80"), 0u);
  EXPECT_EQ(explicit_proxy->by_type[kLds].count("inbound"), 0u);
}

}  // namespace
}  // namespace weft::control

namespace weft::control {
namespace {

// The test mesh with one more MeshConfig spec field, e.g. "accessLog: {mode: JSON}".
ConfigSet withMeshSpec(const std::string& field) {
  ConfigSet set;
  parseYamlDocuments(
      std::string(kMesh).replace(std::string(kMesh).find("  egress:"), 0, "  " + field + "\n"),
      "mesh.yaml", set);
  validateConfig(set);
  return set;
}

ConfigSet withAccessLog(const std::string& access_log) {
  return withMeshSpec("accessLog: " + access_log);
}

// Every network filter of every listener's filter chains.
void forEachFilter(const ProxyResources& r,
                   const std::function<void(const envoy::config::listener::v3::Filter&)>& fn) {
  for (const auto& [name, resource] : r.by_type[kLds]) {
    envoy::config::listener::v3::Listener listener;
    resource.any.UnpackTo(&listener);
    for (const auto& chain : listener.filter_chains()) {
      for (const auto& filter : chain.filters()) fn(filter);
    }
  }
}

// The access logs on every listener's connection managers and TCP proxies.
std::vector<std::string> accessLogTypes(const ProxyResources& r) {
  std::vector<std::string> types;
  forEachFilter(r, [&](const envoy::config::listener::v3::Filter& filter) {
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
    envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp;
    if (filter.typed_config().UnpackTo(&hcm)) {
      for (const auto& log : hcm.access_log()) types.push_back("http " + log.name());
    } else if (filter.typed_config().UnpackTo(&tcp)) {
      for (const auto& log : tcp.access_log()) types.push_back("tcp " + log.name());
    }
  });
  return types;
}

// A pod serving an unnamed port, in a namespace of `mode`, intercepted.
std::shared_ptr<const ProxyResources> detectedPortPod(const std::string& mode) {
  ConfigSet set;
  parseYamlDocuments(R"(
apiVersion: v1
kind: Service
metadata: {name: mail, namespace: shop}
spec: {clusterIP: 10.96.0.25, ports: [{port: 25, targetPort: 2525}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: mail-abc
  namespace: shop
  labels: {kubernetes.io/service-name: mail}
addressType: IPv4
ports: [{port: 2525}]
endpoints:
- addresses: [10.244.1.9]
  targetRef: {kind: Pod, name: mail-0, namespace: shop}
---
apiVersion: weft.dev/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec: {mtls: {mode: )" + mode +
                         R"(}, protocolDetectionTimeout: 250ms}
)",
                     "mesh.yaml", set);
  validateConfig(set);
  EXPECT_TRUE(set.errors.empty()) << set.errors[0].toString();
  set.trust_bundle_pem = "-----BEGIN CERTIFICATE-----\n";
  envoy::config::core::v3::Node node;
  node.set_id("mail-0.shop");
  auto& fields = *node.mutable_metadata()->mutable_fields();
  fields["SERVICE_ACCOUNT"].set_string_value("mail");
  fields["INTERCEPTION"].set_string_value("iptables");
  return translateForProxy(set, ProxyIdentity::fromNode(node), {});
}

envoy::config::listener::v3::Listener listenerOf(const ProxyResources& r, const std::string& name) {
  envoy::config::listener::v3::Listener l;
  EXPECT_EQ(r.by_type.at(kLds).count(name), 1u) << name;
  if (r.by_type.at(kLds).count(name)) r.by_type.at(kLds).at(name).any.UnpackTo(&l);
  return l;
}

PortProtocol protocolOf(const std::string& name, const std::string& app_protocol = "") {
  ServicePort port;
  port.name = name;
  port.app_protocol = app_protocol;
  return portProtocol(port);
}

TEST(TranslatorTest, PortsWithNoDeclaredProtocolAreDetected) {
  EXPECT_EQ(protocolOf(""), PortProtocol::kDetect);
  EXPECT_EQ(protocolOf("smtp"), PortProtocol::kDetect);
  EXPECT_EQ(protocolOf("http-web"), PortProtocol::kHttp);
  EXPECT_EQ(protocolOf("grpc"), PortProtocol::kHttp);
  EXPECT_EQ(protocolOf("mysql-main"), PortProtocol::kTcp);
  EXPECT_EQ(protocolOf("tcp"), PortProtocol::kTcp);
  EXPECT_EQ(protocolOf("whatever", "kubernetes.io/h2c"), PortProtocol::kHttp);
  EXPECT_EQ(protocolOf("http", "postgresql"), PortProtocol::kTcp);  // appProtocol wins

  auto strict = detectedPortPod("STRICT");
  // Outbound: HTTP by its first bytes, else TCP to a second cluster of the
  // same endpoints; the detection timeout from MeshConfig.
  auto out = listenerOf(*strict, "outbound|10.96.0.25_25");
  EXPECT_EQ(out.listener_filters_size(), 1);
  EXPECT_EQ(out.listener_filters_timeout().nanos(), 250000000);
  ASSERT_EQ(out.filter_chains_size(), 2);
  EXPECT_EQ(out.filter_chains(0).filter_chain_match().application_protocols(0), "http/1.1");
  EXPECT_EQ(out.filter_chains(1).filters(0).name(), "envoy.filters.network.tcp_proxy");
  envoy::config::cluster::v3::Cluster tcp;
  ASSERT_TRUE(strict->by_type.at(kCds)
                  .at("outbound|25|tcp|mail.shop.svc.cluster.local")
                  .any.UnpackTo(&tcp));
  EXPECT_EQ(tcp.eds_cluster_config().service_name(), "outbound|25||mail.shop.svc.cluster.local");
  EXPECT_NE(tcp.transport_socket().typed_config().value().find("weft-peer-exchange/1"),
            std::string::npos);
  // Inbound under STRICT: both chains mTLS, HTTP chosen by the ALPN h2.
  auto in = listenerOf(*strict, "inbound|2525");
  ASSERT_EQ(in.filter_chains_size(), 2);
  EXPECT_EQ(in.filter_chains(0).filter_chain_match().application_protocols(0), "h2");
  EXPECT_TRUE(in.filter_chains(0).has_transport_socket());
  EXPECT_TRUE(in.filter_chains(1).has_transport_socket());
  EXPECT_EQ(in.listener_filters_size(), 2);  // tls_inspector and http_inspector
  // PERMISSIVE: the same two under TLS, and two plaintext ones detected by bytes.
  auto permissive = listenerOf(*detectedPortPod("PERMISSIVE"), "inbound|2525");
  ASSERT_EQ(permissive.filter_chains_size(), 4);
  EXPECT_EQ(permissive.listener_filters(0).name(), "envoy.filters.listener.tls_inspector");
  EXPECT_EQ(permissive.filter_chains(0).filter_chain_match().transport_protocol(), "tls");
  EXPECT_EQ(permissive.filter_chains(2).filter_chain_match().transport_protocol(), "raw_buffer");
  EXPECT_EQ(permissive.filter_chains(2).filter_chain_match().application_protocols(0), "http/1.1");
  EXPECT_FALSE(permissive.filter_chains(3).has_transport_socket());
}

// A StatefulSet behind a headless Service: three members, one not ready.
const char kPeers[] = R"(
apiVersion: v1
kind: Service
metadata: {name: peers, namespace: shop}
spec:
  clusterIP: None
  ports: [{name: tcp-peer, port: 7000}, {name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: peers-abc
  namespace: shop
  labels: {kubernetes.io/service-name: peers}
addressType: IPv4
ports: [{name: tcp-peer, port: 7000}, {name: http, port: 8080}]
endpoints:
- addresses: [10.244.1.10]
  hostname: peers-0
  targetRef: {kind: Pod, name: peers-0, namespace: shop}
- addresses: [10.244.1.11]
  hostname: peers-1
  targetRef: {kind: Pod, name: peers-1, namespace: shop}
- addresses: [10.244.1.12]
  hostname: peers-2
  conditions: {ready: false}
  targetRef: {kind: Pod, name: peers-2, namespace: shop}
---
apiVersion: weft.dev/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec: {mtls: {mode: STRICT}}
)";

std::shared_ptr<const ProxyResources> peerPod(bool interception) {
  ConfigSet set;
  parseYamlDocuments(kPeers, "mesh.yaml", set);
  validateConfig(set);
  EXPECT_TRUE(set.errors.empty()) << set.errors[0].toString();
  set.trust_bundle_pem = "-----BEGIN CERTIFICATE-----\n";
  envoy::config::core::v3::Node node;
  node.set_id("peers-0.shop");
  auto& fields = *node.mutable_metadata()->mutable_fields();
  fields["SERVICE_ACCOUNT"].set_string_value("peers");
  if (interception) fields["INTERCEPTION"].set_string_value("iptables");
  return translateForProxy(set, ProxyIdentity::fromNode(node), {});
}

TEST(TranslatorTest, HeadlessServiceMembersAreReachedOverMtlsOneByOne) {
  auto r = peerPod(true);
  // A virtual listener per ready member and port, at the pod's IP and the
  // port its app listens on; none for the proxy's own pod or the unready one.
  auto tcp = listenerOf(*r, "outbound|10.244.1.11_7000");
  EXPECT_FALSE(tcp.bind_to_port().value());
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy proxy_config;
  ASSERT_TRUE(tcp.filter_chains(0).filters(0).typed_config().UnpackTo(&proxy_config));
  EXPECT_EQ(proxy_config.cluster(), "outbound|7000|10.244.1.11|peers.shop.svc.cluster.local");
  listenerOf(*r, "outbound|10.244.1.11_8080");
  for (const char* absent : {"outbound|10.244.1.10_7000", "outbound|10.244.1.12_7000"}) {
    EXPECT_EQ(r->by_type.at(kLds).count(absent), 0u) << absent;
  }
  // The member's cluster holds that pod only, under the Service's mTLS.
  envoy::config::cluster::v3::Cluster member;
  ASSERT_TRUE(r->by_type.at(kCds)
                  .at("outbound|80|10.244.1.11|peers.shop.svc.cluster.local")
                  .any.UnpackTo(&member));
  EXPECT_EQ(member.type(), envoy::config::cluster::v3::Cluster::STATIC);
  ASSERT_EQ(member.load_assignment().endpoints(0).lb_endpoints_size(), 1);
  const auto& address =
      member.load_assignment().endpoints(0).lb_endpoints(0).endpoint().address().socket_address();
  EXPECT_EQ(address.address(), "10.244.1.11");
  EXPECT_EQ(address.port_value(), 8080u);
  EXPECT_EQ(member.transport_socket().name(), "envoy.transport_sockets.tls");
  EXPECT_NE(
      member.transport_socket().typed_config().value().find("spiffe://cluster.local/ns/shop/sa/"),
      std::string::npos);
  // HTTP to the member's IP goes to that member, whatever the Host.
  envoy::config::route::v3::RouteConfiguration routes;
  ASSERT_TRUE(r->by_type.at(kRds).at("outbound|10.244.1.11_8080").any.UnpackTo(&routes));
  EXPECT_EQ(routes.virtual_hosts(0).domains(0), "*");
  EXPECT_EQ(routes.virtual_hosts(0).routes(0).route().cluster(),
            "outbound|80|10.244.1.11|peers.shop.svc.cluster.local");

  // Without interception the app names the member: its DNS names route to it.
  auto explicit_proxy = peerPod(false);
  EXPECT_EQ(explicit_proxy->by_type.at(kLds).count("outbound|10.244.1.11_7000"), 0u);
  ASSERT_TRUE(explicit_proxy->by_type.at(kRds).at("outbound").any.UnpackTo(&routes));
  std::map<std::string, std::string> cluster_of_domain;
  for (const auto& vh : routes.virtual_hosts()) {
    for (const auto& domain : vh.domains()) {
      EXPECT_EQ(cluster_of_domain.count(domain), 0u) << "duplicate domain " << domain;
      cluster_of_domain[domain] = vh.routes(vh.routes_size() - 1).route().cluster();
    }
  }
  for (const char* host : {"peers-1.peers.shop", "peers-1.peers.shop.svc.cluster.local:80",
                           "peers-1.peers.shop.svc:8080"}) {
    EXPECT_EQ(cluster_of_domain[host], "outbound|80|10.244.1.11|peers.shop.svc.cluster.local")
        << host;
  }
  EXPECT_EQ(cluster_of_domain["peers.shop.svc.cluster.local"],
            "outbound|80||peers.shop.svc.cluster.local");
  EXPECT_EQ(cluster_of_domain.count("peers-2.peers.shop"), 0u);  // not ready
}

TEST(TranslatorTest, AnEndpointHostnameMustBeADnsLabel) {
  ConfigSet set;
  std::string yaml = kPeers;
  yaml.replace(yaml.find("hostname: peers-1"), 17, "hostname: Peers_1");
  parseYamlDocuments(yaml, "mesh.yaml", set);
  validateConfig(set);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].field, "endpoints[1].hostname");
  EXPECT_NE(set.errors[0].message.find("'Peers_1' is not a DNS label"), std::string::npos);
}

TEST(TranslatorTest, AnExternalNameServiceIsResolvedByTheProxyAndItsTlsVerifiedByName) {
  ConfigSet set;
  parseYamlDocuments(R"(
apiVersion: v1
kind: Service
metadata: {name: payments, namespace: shop}
spec:
  type: ExternalName
  externalName: api.payments.example
  ports: [{name: http, port: 443}]
---
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: payments, namespace: shop}
spec:
  targetRef: {name: payments}
  tls: {mode: SIMPLE, caCertificates: /etc/weft/payments-ca.pem}
---
apiVersion: weft.dev/v1alpha1
kind: MeshConfig
metadata: {name: mesh}
spec: {mtls: {mode: STRICT}}
)",
                     "mesh.yaml", set);
  validateConfig(set);
  ASSERT_TRUE(set.errors.empty()) << set.errors[0].toString();
  set.trust_bundle_pem = "-----BEGIN CERTIFICATE-----\n";
  auto r = translateForProxy(set, proxy("client-0.shop", "client"), {});
  envoy::config::cluster::v3::Cluster cluster;
  ASSERT_TRUE(r->by_type.at(kCds)
                  .at("outbound|443||payments.shop.svc.cluster.local")
                  .any.UnpackTo(&cluster));
  EXPECT_EQ(cluster.type(), envoy::config::cluster::v3::Cluster::STRICT_DNS);
  EXPECT_TRUE(cluster.respect_dns_ttl());
  EXPECT_EQ(cluster.dns_lookup_family(), envoy::config::cluster::v3::Cluster::V4_ONLY);
  const auto& address = cluster.load_assignment().endpoints(0).lb_endpoints(0).endpoint().address();
  EXPECT_EQ(address.socket_address().address(), "api.payments.example");
  EXPECT_EQ(address.socket_address().port_value(), 443u);
  EXPECT_EQ(r->by_type.at(kEds).count("outbound|443||payments.shop.svc.cluster.local"), 0u);
  // TLS to the name, not the mesh's mTLS: no workload certificate, its CA, its name.
  envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext tls;
  ASSERT_TRUE(cluster.transport_socket().typed_config().UnpackTo(&tls));
  EXPECT_EQ(tls.sni(), "api.payments.example");
  EXPECT_EQ(tls.common_tls_context().tls_certificate_sds_secret_configs_size(), 0);
  const auto& validation = tls.common_tls_context().validation_context();
  EXPECT_EQ(validation.trusted_ca().filename(), "/etc/weft/payments-ca.pem");
  ASSERT_EQ(validation.match_typed_subject_alt_names_size(), 1);
  EXPECT_EQ(validation.match_typed_subject_alt_names(0).san_type(),
            envoy::extensions::transport_sockets::tls::v3::SubjectAltNameMatcher::DNS);
  EXPECT_EQ(validation.match_typed_subject_alt_names(0).matcher().exact(), "api.payments.example");
}

TEST(TranslatorTest, ExternalNameAndEgressTlsMistakesAreNamed) {
  ConfigSet set;
  parseYamlDocuments(R"(
apiVersion: v1
kind: Service
metadata: {name: bad, namespace: shop}
spec: {type: ExternalName, externalName: "not a name", ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: web, namespace: shop}
spec: {targetRef: {name: web}, tls: {mode: SIMPLE}}
---
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: web-mode, namespace: shop}
spec: {targetRef: {name: web}, tls: {mode: MUTUAL}}
---
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: web-typo, namespace: shop}
spec: {targetRef: {name: web}, tls: {mode: SIMPLE, subjectAltName: [x]}}
)",
                     "mesh.yaml", set);
  validateConfig(set);
  std::map<std::string, std::string> errors;
  for (const auto& e : set.errors) errors[e.object + " " + e.field] = e.message;
  EXPECT_NE(errors["Service shop/bad spec.externalName"].find("'not a name' is not a DNS name"),
            std::string::npos);
  EXPECT_NE(errors["DestinationPolicy shop/web spec.tls"].find("ExternalName Services only"),
            std::string::npos);
  EXPECT_NE(errors["DestinationPolicy shop/web-mode spec.tls.mode"].find("'MUTUAL' is not SIMPLE"),
            std::string::npos);
  EXPECT_EQ(errors.count("DestinationPolicy shop/web-typo spec.tls.subjectAltName"), 1u)
      << set.errors.size();
}

TEST(TranslatorTest, EveryMeshedConnectionManagerCarriesWebSockets) {
  ConfigSet set = mesh();
  auto r = translateForProxy(set, proxy("client.default", "default"), {});
  int managers = 0;
  forEachFilter(*r, [&](const envoy::config::listener::v3::Filter& filter) {
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
    if (!filter.typed_config().UnpackTo(&hcm)) return;
    ++managers;
    ASSERT_EQ(hcm.upgrade_configs_size(), 1);
    EXPECT_EQ(hcm.upgrade_configs(0).upgrade_type(), "websocket");
    EXPECT_TRUE(hcm.http2_protocol_options().allow_connect());
  });
  EXPECT_GT(managers, 0);
}

TEST(TranslatorTest, MeshConfigTurnsAccessLogsOnPerNamespace) {
  ConfigSet set = withAccessLog("{mode: JSON, namespaces: {data: Off}}");
  ASSERT_TRUE(set.errors.empty()) << set.errors[0].toString();
  auto shop = translateForProxy(set, proxy("a.shop", "default"), {});
  auto types = accessLogTypes(*shop);
  ASSERT_FALSE(types.empty());
  for (const auto& t : types) EXPECT_NE(t.find("envoy.access_loggers.stdout"), std::string::npos);
  EXPECT_TRUE(accessLogTypes(*translateForProxy(set, proxy("b.data", "default"), {})).empty());
  // Translating the same config again gives the same versions (the JSON format is a Struct,
  // a map: its bytes must not depend on hash-table order, or every reload re-pushes LDS).
  for (int i = 0; i < 20; ++i) {
    ConfigSet again = withAccessLog("{mode: JSON, namespaces: {data: Off}}");
    EXPECT_EQ(translateForProxy(again, proxy("a.shop", "default"), {})->version[kLds],
              shop->version[kLds]);
  }
  // Off by default.
  EXPECT_TRUE(accessLogTypes(*translateForProxy(mesh(), proxy("a.shop", "default"), {})).empty());
}

TEST(TranslatorTest, MeshConfigFieldsWeftDoesNotReadAreErrors) {
  ConfigSet bad = withAccessLog("{mode: Verbose}");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(
      bad.errors[0].toString().find("spec.accessLog.mode: 'Verbose' is not Off, Text or JSON"),
      std::string::npos)
      << bad.errors[0].toString();
  ConfigSet unknown = withAccessLog("{mode: JSON, format: x}");
  ASSERT_EQ(unknown.errors.size(), 1u);
  EXPECT_NE(unknown.errors[0].toString().find("spec.accessLog.format: is not a field weft reads"),
            std::string::npos)
      << unknown.errors[0].toString();
}

}  // namespace
}  // namespace weft::control

namespace weft::control {
namespace {

ConfigSet withTracing(const std::string& tracing) { return withMeshSpec("tracing: " + tracing); }

// Each connection manager's OpenTelemetry tracer.
std::vector<envoy::config::trace::v3::OpenTelemetryConfig> tracers(const ProxyResources& r,
                                                                   std::vector<double>* sampling) {
  std::vector<envoy::config::trace::v3::OpenTelemetryConfig> out;
  forEachFilter(r, [&](const envoy::config::listener::v3::Filter& filter) {
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
    if (!filter.typed_config().UnpackTo(&hcm) || !hcm.has_tracing()) return;
    EXPECT_TRUE(hcm.tracing().provider().typed_config().UnpackTo(&out.emplace_back()));
    if (sampling != nullptr) sampling->push_back(hcm.tracing().random_sampling().value());
  });
  return out;
}

// Each connection manager's tracing: "<cluster> <sampling> <service name>".
std::vector<std::string> tracingOf(const ProxyResources& r) {
  std::vector<double> sampling;
  auto otel = tracers(r, &sampling);
  std::vector<std::string> out;
  for (size_t i = 0; i < otel.size(); ++i) {
    out.push_back(otel[i].grpc_service().envoy_grpc().cluster_name() + " " +
                  std::to_string(sampling[i]) + " " + otel[i].service_name());
  }
  return out;
}

TEST(TranslatorTest, MeshConfigTracingToAServiceOrAnIp) {
  ConfigSet by_service = withTracing("{collector: \"web.shop:80\", samplingPercent: 5}");
  ASSERT_TRUE(by_service.errors.empty()) << by_service.errors[0].toString();
  auto traced = tracingOf(*translateForProxy(by_service, proxy("a.shop", "default"), {}));
  ASSERT_FALSE(traced.empty());
  for (const auto& t : traced) {
    EXPECT_EQ(t, "outbound|80||web.shop.svc.cluster.local 5.000000 a.shop");
  }
  ConfigSet by_ip = withTracing("{collector: \"10.0.0.7:4317\"}");
  auto resources = translateForProxy(by_ip, proxy("a.shop", "default"), {});
  EXPECT_EQ(resources->by_type[kCds].count(kTracingCollectorCluster), 1u);
  for (const auto& t : tracingOf(*resources)) {
    EXPECT_EQ(t, std::string(kTracingCollectorCluster) + " 1.000000 a.shop");  // Istio's 1%
  }
  // OTLP/HTTP to a Service: its cluster, the URI the collector was given.
  auto http = translateForProxy(withTracing("{collector: \"http://web.shop:80/v1/traces\"}"),
                                proxy("a.shop", "default"), {});
  auto http_tracers = tracers(*http, nullptr);
  for (const auto& otel : http_tracers) {
    EXPECT_FALSE(otel.has_grpc_service());
    EXPECT_EQ(otel.http_service().http_uri().uri(), "http://web.shop:80/v1/traces");
    EXPECT_EQ(otel.http_service().http_uri().cluster(), "outbound|80||web.shop.svc.cluster.local");
  }
  EXPECT_FALSE(http_tracers.empty());
  // A collector Service that does not exist (yet): no tracing, nothing refused.
  EXPECT_TRUE(tracingOf(*translateForProxy(withTracing("{collector: \"otel.nowhere:4317\"}"),
                                           proxy("a.shop", "default"), {}))
                  .empty());
}

TEST(TranslatorTest, MeshConfigTracingErrorsNameTheField) {
  for (const auto& [tracing, field] : std::vector<std::pair<std::string, std::string>>{
           {"{collector: otel}", "spec.tracing.collector"},
           {"{collector: \"http://otel.o/v1/traces\"}", "spec.tracing.collector"},
           {"{collector: \"otel.o:99999\"}", "spec.tracing.collector"},
           {"{collector: \"otel.o:4317\", samplingPercent: 101}", "spec.tracing.samplingPercent"},
           {"{collector: \"otel.o:4317\", sampling: 1}", "spec.tracing.sampling"}}) {
    ConfigSet set = withTracing(tracing);
    ASSERT_FALSE(set.errors.empty()) << tracing;
    EXPECT_EQ(set.errors[0].field, field) << set.errors[0].toString();
  }
}

}  // namespace
}  // namespace weft::control

namespace weft::control {
namespace {

// RING_HASH on web: its cluster hashes, and every route sending to it (the
// canary split and the Service's own default route) carries the hash policy;
// the canary's own cluster and a TCP port stay as they were.
TEST(TranslatorTest, ConsistentHashingSetsTheClusterAndEveryRouteToIt) {
  ConfigSet set;
  parseYamlDocuments(std::string(kMesh) + R"(
---
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: web, namespace: shop}
spec:
  targetRef: {kind: Service, name: web}
  loadBalancer: RING_HASH
  consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 2048}}
---
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: db, namespace: data}
spec:
  targetRef: {name: db}
  loadBalancer: MAGLEV
  consistentHash: {useSourceIp: true}
)",
                     "mesh.yaml", set);
  validateConfig(set);
  ASSERT_TRUE(set.errors.empty()) << set.errors[0].toString();
  auto r = translateForProxy(set, proxy("a.other", "default"), {});
  envoy::config::cluster::v3::Cluster web, canary, db;
  ASSERT_TRUE(r->by_type[kCds].at("outbound|80||web.shop.svc.cluster.local").any.UnpackTo(&web));
  ASSERT_TRUE(
      r->by_type[kCds].at("outbound|80||web-canary.shop.svc.cluster.local").any.UnpackTo(&canary));
  ASSERT_TRUE(r->by_type[kCds].at("outbound|5432||db.data.svc.cluster.local").any.UnpackTo(&db));
  EXPECT_EQ(web.lb_policy(), envoy::config::cluster::v3::Cluster::RING_HASH);
  EXPECT_EQ(web.ring_hash_lb_config().minimum_ring_size().value(), 2048u);
  EXPECT_EQ(canary.lb_policy(), envoy::config::cluster::v3::Cluster::ROUND_ROBIN);
  EXPECT_EQ(db.lb_policy(), envoy::config::cluster::v3::Cluster::ROUND_ROBIN);  // TCP: no hash

  envoy::config::route::v3::RouteConfiguration routes;
  ASSERT_TRUE(r->by_type[kRds].at("outbound").any.UnpackTo(&routes));
  int hashed = 0;
  for (const auto& vh : routes.virtual_hosts()) {
    for (const auto& route : vh.routes()) {
      const auto& action = route.route();
      bool to_web = action.cluster() == web.name();
      for (const auto& c : action.weighted_clusters().clusters()) to_web |= c.name() == web.name();
      if (!to_web) {
        EXPECT_EQ(action.hash_policy_size(), 0) << vh.name() << " " << route.name();
        continue;
      }
      ASSERT_EQ(action.hash_policy_size(), 1) << vh.name() << " " << route.name();
      EXPECT_EQ(action.hash_policy(0).header().header_name(), "x-user");
      ++hashed;
    }
  }
  EXPECT_EQ(hashed, 3);  // the 90/10 split, /health and web's default route
}

}  // namespace
}  // namespace weft::control
