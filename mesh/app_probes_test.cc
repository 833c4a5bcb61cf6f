#include "mesh/app_probes.h"

#include <gtest/gtest.h>

namespace weft::mesh {
namespace {

TEST(AppProbes, RoundTripsEveryKind) {
  AppProbes probes;
  AppProbe http;
  http.port = 8080;
  http.path = "/healthz?full=1";
  http.https = true;
  http.host = "10.0.0.7";
  http.headers = {{"x-probe", "yes"}, {"Host", "web.local"}};
  http.timeout_seconds = 3;
  probes[appHealthPath("web", "readiness")] = http;
  AppProbe tcp;
  tcp.kind = AppProbe::Kind::kTcpSocket;
  tcp.port = 5432;
  probes[appHealthPath("db", "liveness")] = tcp;
  AppProbe grpc;
  grpc.kind = AppProbe::Kind::kGrpc;
  grpc.port = 9090;
  grpc.grpc_service = "shop.Cart";
  probes[appHealthPath("cart", "startup")] = grpc;

  AppProbes parsed;
  std::string error;
  ASSERT_TRUE(parseAppProbes(appProbesToJson(probes), &parsed, &error)) << error;
  EXPECT_EQ(parsed, probes);
  EXPECT_EQ(parsed.begin()->first, "/app-health/cart/startup");
}

TEST(AppProbes, ErrorsNameTheEntryAndField) {
  struct Case {
    const char* json;
    const char* error;
  };
  const Case cases[] = {
      {"[]", "not a JSON object of probes by path"},
      {R"({"/healthz": {"tcpSocket": {"port": 1}}})", "does not start with /app-health/"},
      {R"({"/app-health/a/readiness": {"tcpSocket": {"port": 0}}})",
       "probe /app-health/a/readiness.tcpSocket.port: not a port number"},
      {R"({"/app-health/a/readiness": {"httpGet": {"port": 80, "scheme": "ftp"}}})",
       "httpGet.scheme: 'ftp' is not HTTP or HTTPS"},
      {R"({"/app-health/a/readiness": {"httpGet": {"port": 80, "verb": "POST"}}})",
       "httpGet.verb: unknown field"},
      {R"({"/app-health/a/readiness": {"tcpSocket": {"port": 80}, "grpc": {"port": 80}}})",
       "needs exactly one of httpGet, tcpSocket, grpc"},
      {R"({"/app-health/a/liveness": {"grpc": {"port": 80}, "timeoutSeconds": 0}})",
       "timeoutSeconds: not a number of seconds"},
      {R"({"/app-health/a/liveness": {"httpGet": {"port": 80, "httpHeaders": [{"value": "v"}]}}})",
       "httpHeaders[0].name: empty"},
  };
  for (const Case& c : cases) {
    AppProbes parsed;
    std::string error;
    EXPECT_FALSE(parseAppProbes(c.json, &parsed, &error)) << c.json;
    EXPECT_NE(error.find(c.error), std::string::npos) << c.json << " -> " << error;
  }
}

TEST(AppProbes, HttpGetDefaultsAreTheKubelets) {
  AppProbes parsed;
  std::string error;
  ASSERT_TRUE(
      parseAppProbes(R"({"/app-health/a/readiness": {"httpGet": {"port": 80}}})", &parsed, &error))
      << error;
  const AppProbe& probe = parsed.begin()->second;
  EXPECT_EQ(probe.path, "/");
  EXPECT_FALSE(probe.https);
  EXPECT_EQ(probe.timeout_seconds, 1u);
}

}  // namespace
}  // namespace weft::mesh
