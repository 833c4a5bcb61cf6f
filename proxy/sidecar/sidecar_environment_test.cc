#include "proxy/sidecar/sidecar_environment.h"

#include <gtest/gtest.h>

namespace weft::sidecar {
namespace {

// Names resolve from a table: the tests need no DNS.
Resolver table(std::map<std::string, std::string> names) {
  return [names](const std::string& host, std::string* error) -> std::optional<std::string> {
    auto it = names.find(host);
    if (it == names.end()) {
      *error = "no such host";
      return std::nullopt;
    }
    return it->second;
  };
}

Environment injected() {
  return {{"WEFT_POD_NAME", "web-7d9f-abcde"},
          {"WEFT_POD_NAMESPACE", "shop"},
          {"WEFT_POD_IP", "10.244.1.7"},
          {"WEFT_SERVICE_ACCOUNT", "web"},
          {"WEFT_XDS_ADDRESS", "weft-control.weft-system.svc:15010"},
          {"WEFT_CA_ADDRESS", "weft-control.weft-system.svc:15012"},
          {"WEFT_TRUST_DOMAIN", "cluster.local"},
          {"WEFT_CONCURRENCY", "2"},
          {"WEFT_OUTBOUND_PORT", "15001"},
          {"WEFT_INBOUND_PORT", "15006"},
          {"WEFT_ADMIN_PORT", "15000"},
          {"WEFT_STATUS_PORT", "15020"}};
}

const Resolver kCluster = table({{"weft-control.weft-system.svc", "10.96.0.15"}});

std::string metadata(const server::Options& options, const std::string& key) {
  const auto& fields = options.bootstrap->node().metadata().fields();
  auto it = fields.find(key);
  return it == fields.end() ? "" : it->second.string_value();
}

TEST(SidecarEnvironment, InjectedPodBecomesNodeBootstrapAndCertificateOptions) {
  server::Options options;
  std::string error;
  ASSERT_TRUE(optionsFromEnvironment(injected(), kCluster, &options, &error)) << error;
  ASSERT_TRUE(options.bootstrap.has_value());
  const auto& bootstrap = *options.bootstrap;
  EXPECT_EQ(bootstrap.node().id(), "web-7d9f-abcde.shop");
  EXPECT_EQ(metadata(options, "SERVICE_ACCOUNT"), "web");
  EXPECT_EQ(metadata(options, "POD_IP"), "10.244.1.7");
  EXPECT_EQ(metadata(options, "OUTBOUND_PORT"), "15001");
  EXPECT_EQ(metadata(options, "INBOUND_PORT"), "15006");
  EXPECT_EQ(metadata(options, "INTERCEPTION"), "iptables");
  // The admin endpoint stays on loopback; the status port is what the kubelet reaches.
  EXPECT_EQ(bootstrap.admin().address().socket_address().address(), "127.0.0.1");
  EXPECT_EQ(bootstrap.admin().address().socket_address().port_value(), 15000u);
  EXPECT_EQ(options.status_port, 15020);
  ASSERT_EQ(bootstrap.static_resources().clusters_size(), 1);
  const auto& xds = bootstrap.static_resources().clusters(0);
  const auto& address =
      xds.load_assignment().endpoints(0).lb_endpoints(0).endpoint().address().socket_address();
  EXPECT_EQ(address.address(), "10.96.0.15");
  EXPECT_EQ(address.port_value(), 15010u);
  EXPECT_TRUE(bootstrap.dynamic_resources().has_ads_config());
  EXPECT_EQ(options.ca_address, "10.96.0.15:15012");
  EXPECT_EQ(options.ca_root_cert, "/var/run/secrets/weft/ca/root-cert.pem");
  EXPECT_EQ(options.ca_token_file, "/var/run/secrets/weft/tokens/weft-token");
  EXPECT_EQ(options.concurrency, 2);
  EXPECT_TRUE(options.exit_with_app_proc.empty());
  EXPECT_TRUE(options.app_probes.empty());
  EXPECT_EQ(options.pod_ip, "10.244.1.7");  // where the app probes go
}

TEST(SidecarEnvironment, AppProbesFromTheInjector) {
  Environment env = injected();
  env["WEFT_APP_PROBES"] =
      R"({"/app-health/web/readiness": {"httpGet": {"path": "/ready", "port": 8080}}})";
  server::Options options;
  std::string error;
  ASSERT_TRUE(optionsFromEnvironment(env, kCluster, &options, &error)) << error;
  ASSERT_EQ(options.app_probes.size(), 1u);
  EXPECT_EQ(options.app_probes.at("/app-health/web/readiness").port, 8080);
  EXPECT_EQ(options.app_probes.at("/app-health/web/readiness").path, "/ready");
}

TEST(SidecarEnvironment, OptionalPartsAndOverrides) {
  Environment env = injected();
  env.erase("WEFT_CA_ADDRESS");
  env.erase("WEFT_SERVICE_ACCOUNT");
  env["WEFT_EXIT_WITH_APP"] = "true";
  env["WEFT_XDS_ADDRESS"] = "[fd00::15]:15010";
  env["WEFT_DRAIN_TIME_S"] = "20";
  env["WEFT_INTERCEPTION"] = "none";
  server::Options options;
  std::string error;
  ASSERT_TRUE(optionsFromEnvironment(env, table({{"fd00::15", "fd00::15"}}), &options, &error))
      << error;
  EXPECT_TRUE(options.ca_address.empty());  // no CA: no workload certificate
  EXPECT_EQ(metadata(options, "SERVICE_ACCOUNT"), "default");
  EXPECT_EQ(options.exit_with_app_proc, "/proc");
  EXPECT_EQ(options.drain_timeout_ms, 20000u);
  EXPECT_EQ(metadata(options, "INTERCEPTION"), "");  // explicit: no interception listeners
  EXPECT_EQ(options.bootstrap->static_resources()
                .clusters(0)
                .load_assignment()
                .endpoints(0)
                .lb_endpoints(0)
                .endpoint()
                .address()
                .socket_address()
                .address(),
            "fd00::15");
}

TEST(SidecarEnvironment, TheWorkloadsLabelsReachTheNode) {
  Environment env = injected();
  env["WEFT_WORKLOAD_NAME"] = "web";
  env["WEFT_APP"] = "web";
  env["WEFT_VERSION"] = "v2";
  env["WEFT_CANONICAL_REVISION"] = "v2";
  server::Options options;
  std::string error;
  ASSERT_TRUE(optionsFromEnvironment(env, kCluster, &options, &error)) << error;
  EXPECT_EQ(metadata(options, "WORKLOAD_NAME"), "web");
  EXPECT_EQ(metadata(options, "APP"), "web");
  EXPECT_EQ(metadata(options, "VERSION"), "v2");
  EXPECT_EQ(metadata(options, "CANONICAL_REVISION"), "v2");
  EXPECT_EQ(metadata(options, "CANONICAL_SERVICE"), "");  // not set: the proxy derives it
}

TEST(SidecarEnvironment, EachBadVariableIsNamed) {
  struct Case {
    std::string variable, value, expected;
  };
  std::vector<Case> cases = {
      {"WEFT_POD_NAME", "", "WEFT_POD_NAME is not set"},
      {"WEFT_POD_NAMESPACE", "", "WEFT_POD_NAMESPACE is not set"},
      {"WEFT_XDS_ADDRESS", "", "WEFT_XDS_ADDRESS is not set"},
      {"WEFT_XDS_ADDRESS", "weft-control", "WEFT_XDS_ADDRESS='weft-control' is not HOST:PORT"},
      {"WEFT_XDS_ADDRESS", "weft-control.weft-system.svc:99999", "the port is not 1-65535"},
      {"WEFT_XDS_ADDRESS", "elsewhere:15010", "cannot resolve 'elsewhere': no such host"},
      {"WEFT_CA_ADDRESS", "elsewhere:15012", "WEFT_CA_ADDRESS='elsewhere:15012': cannot resolve"},
      {"WEFT_STATUS_PORT", "http", "WEFT_STATUS_PORT='http' is not a port"},
      {"WEFT_ADMIN_PORT", "0", "WEFT_ADMIN_PORT='0' is not a port"},
      {"WEFT_CONCURRENCY", "many", "WEFT_CONCURRENCY='many' is not a worker count"},
      {"WEFT_DRAIN_TIME_S", "soon", "WEFT_DRAIN_TIME_S='soon'"},
      {"WEFT_EXIT_WITH_APP", "yes", "WEFT_EXIT_WITH_APP='yes' is not true or false"},
      {"WEFT_INTERCEPTION", "ebpf", "WEFT_INTERCEPTION='ebpf' is not iptables or none"},
      {"WEFT_SERVICE_ACCOUNT", "web/app", "WEFT_SERVICE_ACCOUNT"},
      {"WEFT_VERSION", "v 2", "WEFT_VERSION='v 2' is not a label value"},
      {"WEFT_APP_PROBES", R"({"/app-health/web/readiness": {"tcpSocket": {}}})",
       "WEFT_APP_PROBES: probe /app-health/web/readiness.tcpSocket.port: not a port number"},
  };
  for (const auto& c : cases) {
    Environment env = injected();
    env[c.variable] = c.value;
    server::Options options;
    std::string error;
    EXPECT_FALSE(optionsFromEnvironment(env, kCluster, &options, &error)) << c.variable;
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << c.variable << "=" << c.value << ": " << error;
  }
}

}  // namespace
}  // namespace weft::sidecar
