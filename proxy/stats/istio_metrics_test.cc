#include "proxy/stats/istio_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "proxy/stream_info/response_flags.h"

namespace weft::stats {
namespace {

workload::WorkloadMetadata reviewsV2() {
  return {"reviews-v2", "shop", "reviews",    "v2",
          "reviews",    "v2",   "Kubernetes", "spiffe://cluster.local/ns/shop/sa/reviews"};
}

workload::WorkloadMetadata productpage() {
  return {"productpage-v1", "shop", "productpage", "v1",
          "productpage",    "v1",   "Kubernetes",  "spiffe://cluster.local/ns/shop/sa/productpage"};
}

class IstioMetricsTest : public ::testing::Test {
 protected:
  std::string exposition() {
    prometheus::TextSerializer serializer;
    std::ostringstream out;
    serializer.Serialize(out, registry_.Collect());
    return out.str();
  }
  // The line of `name` whose labels include every one of `labels`.
  std::string line(const std::string& name, std::initializer_list<std::string> labels) {
    std::istringstream in(exposition());
    for (std::string l; std::getline(in, l);) {
      if (l.rfind(name + "{", 0) != 0) continue;
      bool all = true;
      for (const auto& label : labels) all = all && l.find(label) != std::string::npos;
      if (all) return l;
    }
    return "";
  }

  prometheus::Registry registry_;
};

TEST_F(IstioMetricsTest, TheDestinationReportsBothWorkloads) {
  IstioMetrics metrics(registry_, 100);
  metrics.setLocal(reviewsV2());
  IstioRecorder recorder(metrics);
  std::string caller =
      workload::encodePeerMetadata(productpage(), "reviews.shop.svc.cluster.local");
  IstioRequest request;
  request.reporter = Reporter::kDestination;
  request.peer_header = caller;
  request.peer_principal = "spiffe://cluster.local/ns/shop/sa/productpage";
  request.mutual_tls = true;
  request.response_code = 503;
  request.response_flags =
      stream_info::flagBit(stream_info::ResponseFlag::kUpstreamConnectionFailure);
  request.duration_ms = 7;
  request.request_bytes = 10;
  request.response_bytes = 2000;
  recorder.recordRequest(request);
  recorder.recordRequest(request);
  std::string l = line("istio_requests_total",
                       {"reporter=\"destination\"", "source_workload=\"productpage-v1\"",
                        "source_app=\"productpage\"", "destination_workload=\"reviews-v2\"",
                        "destination_version=\"v2\"", "destination_service_name=\"reviews\"",
                        "destination_service_namespace=\"shop\"",
                        "destination_service=\"reviews.shop.svc.cluster.local\"",
                        "connection_security_policy=\"mutual_tls\"", "response_code=\"503\"",
                        "response_flags=\"UF\"", "request_protocol=\"http\"",
                        "source_principal=\"spiffe://cluster.local/ns/shop/sa/productpage\""});
  ASSERT_NE(l, "") << exposition();
  EXPECT_NE(l.find("} 2"), std::string::npos) << l;
  EXPECT_NE(line("istio_request_duration_milliseconds_bucket", {"le=\"10\"", "reporter="}), "");
  EXPECT_NE(line("istio_response_bytes_bucket", {"le=\"10000\""}).find("} 2"), std::string::npos);
  EXPECT_NE(line("istio_response_bytes_bucket", {"le=\"1000\""}).find("} 0"), std::string::npos);
}

TEST_F(IstioMetricsTest, AnUnknownPeerIsUnknownAndItsHeaderClaimsNothing) {
  IstioMetrics metrics(registry_, 100);
  metrics.setLocal(reviewsV2());
  IstioRecorder recorder(metrics);
  IstioRequest request;
  request.reporter = Reporter::kDestination;
  request.response_code = 200;
  recorder.recordRequest(request);
  EXPECT_NE(
      line("istio_requests_total", {"source_workload=\"unknown\"", "source_principal=\"unknown\"",
                                    "connection_security_policy=\"none\"",
                                    "destination_workload=\"reviews-v2\"", "response_flags=\"-\""}),
      "")
      << exposition();
  // A hostile header is not parsed into labels: the caller stays unknown.
  request.peer_header = "w=x y,n=shop";
  request.response_code = 201;
  recorder.recordRequest(request);
  EXPECT_NE(line("istio_requests_total", {"response_code=\"201\"", "source_workload=\"unknown\""}),
            "");
}

TEST_F(IstioMetricsTest, TheSourceReportsGrpcWithItsStatus) {
  IstioMetrics metrics(registry_, 100);
  metrics.setLocal(productpage());
  IstioRecorder recorder(metrics);
  std::string answer = workload::encodePeerMetadata(reviewsV2());
  IstioRequest request;
  request.reporter = Reporter::kSource;
  request.peer_header = answer;
  request.service = "reviews.shop.svc.cluster.local";
  request.grpc = true;
  request.response_code = 200;
  request.grpc_status = 14;
  recorder.recordRequest(request);
  EXPECT_NE(line("istio_requests_total",
                 {"reporter=\"source\"", "source_workload=\"productpage-v1\"",
                  "destination_workload=\"reviews-v2\"",
                  "destination_principal=\"spiffe://cluster.local/ns/shop/sa/reviews\"",
                  "request_protocol=\"grpc\"", "grpc_response_status=\"14\"",
                  "connection_security_policy=\"unknown\""}),
            "")
      << exposition();
}

TEST_F(IstioMetricsTest, LabelSetsPastTheCapAreCountedNotExported) {
  IstioMetrics metrics(registry_, 3);
  metrics.setLocal(reviewsV2());
  IstioRecorder recorder(metrics);
  IstioRequest request;
  request.reporter = Reporter::kDestination;
  for (int code = 200; code < 210; ++code) {
    request.response_code = code;
    recorder.recordRequest(request);
    recorder.recordRequest(request);
  }
  std::string text = exposition();
  EXPECT_NE(line("istio_requests_total", {"response_code=\"202\""}), "");
  EXPECT_EQ(line("istio_requests_total", {"response_code=\"203\""}), "");
  EXPECT_NE(text.find("weft_istio_label_sets_overflow_total 14"), std::string::npos) << text;
}

TEST_F(IstioMetricsTest, TcpConnectionsCountBytesAndTheirEnd) {
  IstioMetrics metrics(registry_, 100);
  metrics.setLocal(productpage());
  IstioRecorder recorder(metrics);
  IstioConnection connection;
  connection.service = "db.shop.svc.cluster.local";
  const IstioTcpSeries* series = recorder.openConnection(connection);
  ASSERT_NE(series, nullptr);
  series->sent->Increment(5);
  series->received->Increment(7);
  connection.response_flags =
      stream_info::flagBit(stream_info::ResponseFlag::kUpstreamConnectionTermination);
  recorder.closeConnection(connection);
  EXPECT_NE(line("istio_tcp_sent_bytes_total",
                 {"response_flags=\"-\"", "destination_service_name=\"db\""})
                .find("} 5"),
            std::string::npos)
      << exposition();
  EXPECT_NE(line("istio_tcp_connections_closed_total", {"response_flags=\"UC\""}).find("} 1"),
            std::string::npos);
  EXPECT_NE(line("istio_tcp_connections_opened_total", {"response_flags=\"-\""}).find("} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace weft::stats
