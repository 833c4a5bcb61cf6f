#include "proxy/translate/snapshot_builder.h"

#include <gtest/gtest.h>

#include <map>

#include "proxy/translate/bootstrap_loader.h"

namespace weft::translate {
namespace {

const char kBootstrap[] = R"(
node: {id: test}
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: 9901}}
static_resources:
  listeners:
  - name: http
    address: {socket_address: {address: 0.0.0.0, port_value: 10000}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          codec_type: AUTO
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                route: {cluster: svc, timeout: 3s}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  - name: tcp
    address: {socket_address: {address: "::1", port_value: 10001}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: db
          cluster: svc
  clusters:
  - name: svc
    connect_timeout: 0.25s
    type: STATIC
    lb_policy: LEAST_REQUEST
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    circuit_breakers:
      thresholds: [{max_connections: 7, max_pending_requests: 8}]
    load_assignment:
      cluster_name: svc
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}
          load_balancing_weight: 3
        - endpoint: {address: {socket_address: {address: 10.0.0.2, port_value: 80}}}
)";

TEST(TranslateTest, EnvoyDocumentationStyleBootstrap) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  std::string error;
  ASSERT_TRUE(parseBootstrap(kBootstrap, "test.yaml", &bootstrap, &error)) << error;
  common::ErrorList errors;
  config::SnapshotPtr snapshot = translateBootstrap(bootstrap, errors);
  ASSERT_NE(snapshot, nullptr) << errors.joined();
  EXPECT_EQ(snapshot->admin_port, 9901);
  ASSERT_EQ(snapshot->listeners.size(), 2u);
  EXPECT_TRUE(snapshot->listeners[0].filter_chains[0].is_http);
  EXPECT_EQ(snapshot->listeners[0].address.toString(), "0.0.0.0:10000");
  EXPECT_FALSE(snapshot->listeners[1].filter_chains[0].is_http);
  EXPECT_EQ(snapshot->listeners[1].address.toString(), "[::1]:10001");
  const config::ClusterConfig* svc = snapshot->cluster("svc");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->connect_timeout_ms, 250u);
  EXPECT_EQ(svc->lb_policy, config::LbPolicy::kLeastRequest);
  EXPECT_EQ(svc->protocol, config::UpstreamProtocol::kHttp2);
  EXPECT_EQ(svc->max_connections, 7u);
  EXPECT_EQ(svc->max_pending_requests, 8u);
  EXPECT_TRUE(svc->retry_budget_enabled);  // weft's default budget, no max_retries given
  ASSERT_EQ(svc->hosts.size(), 2u);
  EXPECT_EQ(svc->hosts[0].weight, 3u);
  const auto* route =
      snapshot->listeners[0].filter_chains[0].http.routes->virtualHosts()[0].routes.data();
  EXPECT_EQ(route->timeout_ms, 3000u);
}

// Replaces the cluster's lb_policy line of kBootstrap with `lb`.
config::SnapshotPtr withLoadBalancer(const std::string& lb, common::ErrorList& errors) {
  std::string yaml = std::string(kBootstrap);
  yaml.replace(yaml.find("lb_policy: LEAST_REQUEST"),
               std::string("lb_policy: LEAST_REQUEST").size(), lb);
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  std::string error;
  EXPECT_TRUE(parseBootstrap(yaml, "test.yaml", &bootstrap, &error)) << error;
  return translateBootstrap(bootstrap, errors);
}

TEST(TranslateTest, RingHashAndMaglevWithTheirSettings) {
  common::ErrorList errors;
  auto ring = withLoadBalancer(
      "lb_policy: RING_HASH\n    ring_hash_lb_config: {minimum_ring_size: 64, maximum_ring_size: "
      "4096}",
      errors);
  ASSERT_NE(ring, nullptr) << errors.joined();
  EXPECT_EQ(ring->cluster("svc")->lb_policy, config::LbPolicy::kRingHash);
  EXPECT_EQ(ring->cluster("svc")->ring_min_size, 64u);
  EXPECT_EQ(ring->cluster("svc")->ring_max_size, 4096u);
  auto maglev =
      withLoadBalancer("lb_policy: MAGLEV\n    maglev_lb_config: {table_size: 251}", errors);
  ASSERT_NE(maglev, nullptr) << errors.joined();
  EXPECT_EQ(maglev->cluster("svc")->lb_policy, config::LbPolicy::kMaglev);
  EXPECT_EQ(maglev->cluster("svc")->maglev_table_size, 251u);
}

TEST(TranslateTest, HashLoadBalancerMistakesAreNamed) {
  for (const auto& [lb, expected] : std::vector<std::pair<std::string, std::string>>{
           {"lb_policy: MAGLEV\n    maglev_lb_config: {table_size: 1000}",
            "clusters[0].maglev_lb_config.table_size: must be a prime"},
           {"lb_policy: RING_HASH\n    ring_hash_lb_config: {minimum_ring_size: 9000, "
            "maximum_ring_size: 10}",
            "clusters[0].ring_hash_lb_config: needs 0 < minimum_ring_size"},
           {"lb_policy: RING_HASH\n    ring_hash_lb_config: {hash_function: MURMUR_HASH_2}",
            "ring_hash_lb_config.hash_function: only XX_HASH"},
           {"lb_policy: ROUND_ROBIN\n    maglev_lb_config: {table_size: 251}",
            "clusters[0].lb_config: configures a load balancer other than lb_policy's"},
           {"lb_policy: RANDOM", "clusters[0].lb_policy: only ROUND_ROBIN, LEAST_REQUEST"}}) {
    common::ErrorList errors;
    EXPECT_EQ(withLoadBalancer(lb, errors), nullptr) << lb;
    EXPECT_NE(errors.joined().find(expected), std::string::npos) << errors.joined();
  }
}

// Envoy's rule: max_retries governs only where no retry_budget is given.
TEST(TranslateTest, MaxRetriesReplacesTheBudgetOnlyWithoutOne) {
  for (const auto& [thresholds, budget] : std::vector<std::pair<std::string, bool>>{
           {"[{max_retries: 2}]", false},
           {"[{max_retries: 2, retry_budget: {budget_percent: {value: 30}}}]", true},
           {"[{max_requests: 9}]", true}}) {
    std::string yaml = std::string(kBootstrap);
    yaml.replace(yaml.find("[{max_connections: 7, max_pending_requests: 8}]"),
                 std::string("[{max_connections: 7, max_pending_requests: 8}]").size(), thresholds);
    envoy::config::bootstrap::v3::Bootstrap bootstrap;
    std::string error;
    ASSERT_TRUE(parseBootstrap(yaml, "test.yaml", &bootstrap, &error)) << error;
    common::ErrorList errors;
    config::SnapshotPtr snapshot = translateBootstrap(bootstrap, errors);
    ASSERT_NE(snapshot, nullptr) << errors.joined();
    EXPECT_EQ(snapshot->cluster("svc")->retry_budget_enabled, budget) << thresholds;
  }
}

TEST(TranslateTest, UnknownFieldNamedWithFile) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  std::string error;
  EXPECT_FALSE(parseBootstrap("static_resources: {listenerz: []}", "f.yaml", &bootstrap, &error));
  EXPECT_NE(error.find("f.yaml"), std::string::npos) << error;
  EXPECT_NE(error.find("listenerz"), std::string::npos) << error;
}

TEST(TranslateTest, ErrorsNameTheFieldPath) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  std::string error;
  std::string text = kBootstrap;
  text.replace(text.find("cluster: svc, timeout"), 12, "cluster: nope");
  text.replace(text.find("10.0.0.2"), 8, "not-an-ip");
  ASSERT_TRUE(parseBootstrap(text, "t.yaml", &bootstrap, &error)) << error;
  common::ErrorList errors;
  EXPECT_EQ(translateBootstrap(bootstrap, errors), nullptr);
  std::string all = errors.joined();
  EXPECT_NE(all.find("static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[1]"
                     ".endpoint.address.socket_address.address: 'not-an-ip' is not an IP address"),
            std::string::npos)
      << all;
}

}  // namespace
}  // namespace weft::translate

namespace weft::translate {
namespace {

config::SnapshotPtr translateYaml(const std::string& yaml, common::ErrorList& errors) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  std::string error;
  EXPECT_TRUE(parseBootstrap(yaml, "tls.yaml", &bootstrap, &error)) << error;
  return translateBootstrap(bootstrap, errors);
}

constexpr char kTlsCluster[] = R"(
static_resources:
  clusters:
  - name: meshed
    type: STATIC
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context:
          TLS_CERT
          validation_context_sds_secret_config: {name: ROOTCA}
    load_assignment:
      cluster_name: meshed
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}}]}]
)";

std::string tlsClusterYaml(const std::string& cert) {
  std::string yaml = kTlsCluster;
  yaml.replace(yaml.find("TLS_CERT"), 8, cert);
  return yaml;
}

TEST(TranslateTlsTest, UnreadableCertificateFileIsNamedWithItsPath) {
  common::ErrorList errors;
  auto snapshot = translateYaml(
      tlsClusterYaml("tls_certificates: [{certificate_chain: {filename: /nonexistent/cert.pem}, "
                     "private_key: {filename: /nonexistent/key.pem}}]"),
      errors);
  EXPECT_EQ(snapshot, nullptr);
  EXPECT_NE(errors.joined().find("static_resources.clusters[0].transport_socket.typed_config."
                                 "common_tls_context.tls_certificates[0].certificate_chain."
                                 "filename: cannot read '/nonexistent/cert.pem'"),
            std::string::npos)
      << errors.joined();
}

TEST(TranslateTlsTest, UnknownSecretInAStaticBootstrapIsAnError) {
  common::ErrorList errors;
  auto snapshot = translateYaml(tlsClusterYaml("alpn_protocols: [h2]"), errors);
  EXPECT_EQ(snapshot, nullptr);
  EXPECT_NE(errors.joined().find("validation_context_sds_secret_config: unknown secret 'ROOTCA'"),
            std::string::npos)
      << errors.joined();
}

TEST(TranslateTlsTest, GarbageTrustBundleIsRefused) {
  std::string yaml = tlsClusterYaml("alpn_protocols: [h2]") + R"(
  secrets:
  - name: ROOTCA
    validation_context: {trusted_ca: {inline_string: "not a certificate"}}
)";
  common::ErrorList errors;
  EXPECT_EQ(translateYaml(yaml, errors), nullptr);
  EXPECT_NE(errors.joined().find("trusted_ca: no PEM certificate found"), std::string::npos)
      << errors.joined();
}

}  // namespace
}  // namespace weft::translate

namespace weft::translate {
namespace {

// A listener whose HTTP connection manager has `access_log` (YAML list items).
std::string accessLogBootstrap(const std::string& access_log) {
  return R"(
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 1}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: l
          access_log:
)" + access_log +
         R"(
          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, direct_response: {status: 200}}]}]
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
)";
}

class RecordingSinks : public access_log::AccessLogSinkFactory {
 public:
  std::shared_ptr<access_log::AccessLogSink> open(const std::string& path,
                                                  std::string* error) override {
    opened.push_back(path);
    if (path.rfind("/forbidden", 0) == 0) {
      *error = "cannot open '" + path + "' for appending: Permission denied";
      return nullptr;
    }
    return std::make_shared<Null>();
  }
  std::vector<std::string> opened;

 private:
  struct Null : access_log::AccessLogSink {
    void write(std::string_view) override {}
  };
};

config::SnapshotPtr accessLogSnapshot(const std::string& access_log, RecordingSinks& sinks,
                                      common::ErrorList& errors) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  std::string error;
  EXPECT_TRUE(parseBootstrap(accessLogBootstrap(access_log), "log.yaml", &bootstrap, &error))
      << error;
  RuntimeFactories runtime{&sinks, nullptr};
  return translateBootstrap(bootstrap, errors, &runtime);
}

TEST(TranslateAccessLogTest, FileAndStdoutWithTheirFormats) {
  RecordingSinks sinks;
  common::ErrorList errors;
  auto snapshot = accessLogSnapshot(R"(
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: /var/log/access.log
              log_format: {text_format_source: {inline_string: "%RESPONSE_CODE% %REQ(:PATH)%\n"}}
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format: {json_format: {code: "%RESPONSE_CODE%"}, omit_empty_values: true}
          - name: envoy.access_loggers.stderr
            typed_config: {"@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog})",
                                    sinks, errors);
  ASSERT_NE(snapshot, nullptr) << errors.joined();
  const auto& logs = snapshot->listeners[0].filter_chains[0].http.access_logs;
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_EQ(sinks.opened,
            (std::vector<std::string>{"/var/log/access.log", "/dev/stdout", "/dev/stderr"}));
  access_log::AccessLogRecord record;
  http::HeaderMap request;
  request.add(":path", "/x");
  record.request_headers = &request;
  record.response_code = 204;
  std::string line;
  logs[0].formatter->format(record, &line);
  EXPECT_EQ(line, "204 /x\n");
  line.clear();
  logs[1].formatter->format(record, &line);
  EXPECT_EQ(line, "{\"code\":204}\n");
}

TEST(TranslateAccessLogTest, WhatWeftDoesNotDoIsAnErrorNamingIt) {
  struct Case {
    std::string yaml, expected;
  } cases[] = {
      {R"(
          - name: f
            filter: {}
            typed_config: {"@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog})",
       "access_log[0].filter: access-log filters are not implemented"},
      {R"(
          - name: f
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format: {text_format: "%NOPE%"})",
       "access_log[0].typed_config.log_format: unknown command operator %NOPE%"},
      {R"(
          - name: f
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: /forbidden/a.log)",
       "access_log[0].typed_config.path: cannot open '/forbidden/a.log'"},
      {R"(
          - name: f
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: /tmp/a.log
              format: "%DURATION%")",
       "deprecated in Envoy; weft reads log_format"},
      {R"(
          - name: f
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format: {text_format: "x", content_type: text/plain})",
       "content_type: has no effect"},
  };
  for (const auto& c : cases) {
    RecordingSinks sinks;
    common::ErrorList errors;
    envoy::config::bootstrap::v3::Bootstrap bootstrap;
    std::string error;
    ASSERT_TRUE(parseBootstrap(accessLogBootstrap(c.yaml), "log.yaml", &bootstrap, &error))
        << error;
    RuntimeFactories runtime{&sinks, nullptr};
    EXPECT_EQ(translateBootstrap(bootstrap, errors, &runtime), nullptr) << c.expected;
    EXPECT_NE(errors.joined().find(c.expected), std::string::npos) << errors.joined();
  }
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

// The kBootstrap HTTP listener with its HCM's http_filters replaced by
// `filters` (YAML list items at the filters' indentation).
std::string withHttpFilters(const std::string& filters) {
  std::string yaml = kBootstrap;
  const std::string router =
      "          - name: envoy.filters.http.router\n"
      "            typed_config: {\"@type\": "
      "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}\n";
  size_t at = yaml.find(router);
  EXPECT_NE(at, std::string::npos);
  return yaml.replace(at, router.size(), filters + router);
}

std::string rbacFilter(const std::string& principal) {
  return "          - name: envoy.filters.http.rbac\n"
         "            typed_config:\n"
         "              \"@type\": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC\n"
         "              rules:\n"
         "                policies:\n"
         "                  p: {permissions: [{any: true}], principals: [{authenticated: "
         "{principal_name: {exact: \"" +
         principal + "\"}}}]}\n";
}

TEST(TranslateListenerTest, ChainsThatDifferOnlyInRbacShareTheirRulesFreeFingerprint) {
  common::ErrorList errors;
  auto none = translateYaml(withHttpFilters(""), errors);
  auto a = translateYaml(withHttpFilters(rbacFilter("spiffe://td/ns/a/sa/x")), errors);
  auto b = translateYaml(withHttpFilters(rbacFilter("spiffe://td/ns/a/sa/y")), errors);
  auto other = translateYaml(replaced(withHttpFilters(rbacFilter("spiffe://td/ns/a/sa/x")),
                                      "stat_prefix: ingress", "stat_prefix: changed"),
                             errors);
  ASSERT_TRUE(none && a && b && other) << errors.joined();
  const auto& chain = [](const config::SnapshotPtr& s) -> const config::FilterChainConfig& {
    return s->listeners[0].filter_chains[0];
  };
  EXPECT_NE(chain(a).fingerprint, chain(b).fingerprint);
  EXPECT_NE(chain(none).fingerprint, chain(a).fingerprint);
  // A first policy, a changed one: the same chain otherwise.
  EXPECT_EQ(chain(none).fingerprint_without_rbac, chain(a).fingerprint_without_rbac);
  EXPECT_EQ(chain(a).fingerprint_without_rbac, chain(b).fingerprint_without_rbac);
  // Anything else changed: a different chain, which drains.
  EXPECT_NE(chain(a).fingerprint_without_rbac, chain(other).fingerprint_without_rbac);
}

TEST(TranslateListenerTest, AllowConnectEnablesExtendedConnectOnBothSides) {
  std::string yaml = replaced(kBootstrap, "          codec_type: AUTO\n",
                              "          codec_type: AUTO\n"
                              "          http2_protocol_options: {allow_connect: true}\n");
  yaml = replaced(yaml, "{http2_protocol_options: {}}",
                  "{http2_protocol_options: {allow_connect: true}}");
  common::ErrorList errors;
  auto snapshot = translateYaml(yaml, errors);
  ASSERT_TRUE(snapshot) << errors.joined();
  EXPECT_TRUE(snapshot->listeners[0].filter_chains[0].http.allow_connect);
  EXPECT_TRUE(snapshot->cluster("svc")->allow_connect);
  auto plain = translateYaml(kBootstrap, errors);
  ASSERT_TRUE(plain) << errors.joined();
  EXPECT_FALSE(plain->listeners[0].filter_chains[0].http.allow_connect);
  EXPECT_FALSE(plain->cluster("svc")->allow_connect);
}

TEST(TranslateListenerTest, Http2SettingsWeftDoesNotTakeAreErrors) {
  std::string yaml = replaced(kBootstrap, "{http2_protocol_options: {}}",
                              "{http2_protocol_options: {hpack_table_size: 0}}");
  common::ErrorList errors;
  EXPECT_EQ(translateYaml(yaml, errors), nullptr);
  EXPECT_NE(errors.joined().find("explicit_http_config.http2_protocol_options.hpack_table_size: "
                                 "not supported by weft"),
            std::string::npos)
      << errors.joined();
}

}  // namespace
}  // namespace weft::translate

namespace weft::translate {
namespace {

// Answers from a map; what it does not hold is "not resolved yet".
struct FakeDns : dns::DnsLookup {
  std::map<std::string, std::vector<std::string>> answers;
  std::vector<dns::DnsTarget> asked;
  const std::vector<std::string>* lookup(const dns::DnsTarget& target) override {
    asked.push_back(target);
    auto it = answers.find(target.hostname);
    return it == answers.end() ? nullptr : &it->second;
  }
};

std::string dnsCluster(const std::string& name, const std::string& type,
                       const std::vector<std::string>& hosts, const std::string& extra = "") {
  std::string out = "  - name: " + name + "\n    type: " + type + "\n" + extra +
                    "    load_assignment:\n      cluster_name: " + name +
                    "\n      endpoints:\n      - lb_endpoints:\n";
  for (const auto& host : hosts) {
    out += "        - endpoint: {address: {socket_address: {address: " + host +
           ", port_value: 8443}}}\n";
  }
  return out;
}

config::SnapshotPtr translateWithDns(const std::string& clusters, FakeDns* dns,
                                     common::ErrorList& errors,
                                     std::vector<std::string>* missing = nullptr) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  std::string error;
  EXPECT_TRUE(
      parseBootstrap("static_resources:\n  clusters:\n" + clusters, "dns.yaml", &bootstrap, &error))
      << error;
  RuntimeFactories runtime;
  runtime.dns = dns;
  return buildSnapshot(bootstrap, nullptr, errors, missing, dns ? &runtime : nullptr);
}

TEST(TranslateDnsClusterTest, NamesBecomeTheHostsTheirAnswersHold) {
  FakeDns dns;
  dns.answers["api.example.test"] = {"192.0.2.1", "192.0.2.2"};
  dns.answers["one.example.test"] = {"192.0.2.7", "192.0.2.8"};
  common::ErrorList errors;
  std::vector<std::string> missing;
  auto snapshot = translateWithDns(
      dnsCluster("strict", "STRICT_DNS", {"api.example.test", "later.example.test"},
                 "    dns_refresh_rate: 2s\n    respect_dns_ttl: true\n"
                 "    dns_lookup_family: V4_ONLY\n") +
          dnsCluster("logical", "LOGICAL_DNS", {"one.example.test"}) +
          dnsCluster("literal", "STRICT_DNS", {"192.0.2.9"}),
      &dns, errors, &missing);
  ASSERT_NE(snapshot, nullptr) << errors.joined();
  const auto* strict = snapshot->cluster("strict");
  ASSERT_EQ(strict->hosts.size(), 2u);  // the unresolved name adds none yet
  EXPECT_EQ(strict->hosts[1].address.toString(), "192.0.2.2:8443");
  ASSERT_EQ(strict->dns_names.size(), 2u);
  EXPECT_EQ(strict->dns_names[0].target.refresh_ms, 2000u);
  EXPECT_TRUE(strict->dns_names[0].target.respect_ttl);
  EXPECT_EQ(strict->dns_names[0].target.family, dns::LookupFamily::kV4Only);
  EXPECT_EQ(missing, std::vector<std::string>{"DNS name later.example.test"});
  // LOGICAL_DNS: the first address only.
  ASSERT_EQ(snapshot->cluster("logical")->hosts.size(), 1u);
  EXPECT_EQ(snapshot->cluster("logical")->hosts[0].address.toString(), "192.0.2.7:8443");
  EXPECT_TRUE(snapshot->cluster("logical")->logical_dns);
  // An IP is its own answer: nobody is asked.
  EXPECT_EQ(snapshot->cluster("literal")->hosts.size(), 1u);
  for (const auto& target : dns.asked) EXPECT_NE(target.hostname, "192.0.2.9");
}

TEST(TranslateDnsClusterTest, MistakesAreNamed) {
  FakeDns dns;
  common::ErrorList errors;
  EXPECT_EQ(translateWithDns(dnsCluster("two", "LOGICAL_DNS", {"a.test", "b.test"}), &dns, errors),
            nullptr);
  EXPECT_NE(errors.joined().find("a LOGICAL_DNS cluster resolves exactly one name"),
            std::string::npos)
      << errors.joined();
  common::ErrorList static_errors;
  EXPECT_EQ(
      translateWithDns(dnsCluster("s", "STATIC", {"192.0.2.1"}, "    respect_dns_ttl: true\n"),
                       &dns, static_errors),
      nullptr);
  EXPECT_NE(static_errors.joined().find("apply to DNS clusters only"), std::string::npos)
      << static_errors.joined();
  common::ErrorList no_resolver;
  EXPECT_EQ(translateWithDns(dnsCluster("d", "STRICT_DNS", {"a.test"}), nullptr, no_resolver),
            nullptr);
  EXPECT_NE(no_resolver.joined().find("need the proxy's resolver"), std::string::npos)
      << no_resolver.joined();
  // A DNS field weft does not implement is not in its mirror of the API.
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  std::string error;
  EXPECT_FALSE(
      parseBootstrap("static_resources:\n  clusters:\n" +
                         dnsCluster("d", "STRICT_DNS", {"a.test"}, "    dns_resolvers: []\n"),
                     "dns.yaml", &bootstrap, &error));
  EXPECT_NE(error.find("dns_resolvers"), std::string::npos) << error;
}

}  // namespace
}  // namespace weft::translate
