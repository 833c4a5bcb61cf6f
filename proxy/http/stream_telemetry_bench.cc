// The per-request cost of Istio's metrics, both sidecars' share, without
// the network: what the source adds to the request, the destination takes
// off and answers, the source takes off the response, and one record per
// reporter (the series cache warm, as in steady traffic). Prints ns per
// request; tools/bench telemetry runs it beside the sidecar-pair figures.

#include <prometheus/registry.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "common/http/header_map.h"
#include "proxy/http/stream_telemetry.h"
#include "proxy/workload/workload_metadata.h"

namespace {

using weft::http::HeaderMap;
using weft::http::StreamTelemetry;

weft::workload::WorkloadMetadata workload(const char* name, const char* version) {
  return {
      name,      "shop",  "reviews",    version,
      "reviews", version, "Kubernetes", std::string("spiffe://cluster.local/ns/shop/sa/") + name};
}

HeaderMap request() {
  HeaderMap h;
  h.add(":method", "GET");
  h.add(":path", "/reviews/0");
  h.add(":authority", "reviews");
  h.add("user-agent", "bench");
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = argc > 1 ? std::atol(argv[1]) : 1000000;
  prometheus::Registry registry;
  weft::stats::IstioMetrics source_metrics(registry, 5000);
  source_metrics.setLocal(workload("web", "v1"));
  prometheus::Registry registry2;
  weft::stats::IstioMetrics destination_metrics(registry2, 5000);
  destination_metrics.setLocal(workload("reviews-v2", "v2"));
  weft::stats::IstioRecorder source(source_metrics), destination(destination_metrics);
  weft::network::TransportInfo tls;
  tls.peer_certificate = true;
  tls.peer_identity = "spiffe://cluster.local/ns/shop/sa/web";
  const std::string service(
      weft::workload::serviceOfCluster("outbound|80||reviews.shop.svc.cluster.local"));

  auto one = [&](int code) {
    StreamTelemetry at_source(weft::config::TrafficDirection::kOutbound, nullptr);
    StreamTelemetry at_destination(weft::config::TrafficDirection::kInbound, &tls);
    HeaderMap req = request();
    at_source.onRequestHeaders(req);
    // What the router adds on a TLS cluster.
    req.set(weft::workload::kPeerMetadataHeader, source_metrics.localHeader() + ",s=" + service);
    at_destination.onRequestHeaders(req);
    HeaderMap resp;
    resp.add(":status", std::to_string(code));
    resp.add("content-length", "64");
    at_destination.onResponseHeaders(resp, destination_metrics.localHeader(), false);
    at_source.onResponseHeaders(resp, source_metrics.localHeader(), true);
    at_destination.onResponseBody(64);
    at_source.onResponseBody(64);
    at_destination.record(destination, false, code, 0, 3, "");
    at_source.record(source, false, code, 0, 4, service);
  };
  for (int i = 0; i < 1000; ++i) one(i % 10 == 0 ? 503 : 200);  // warm the series caches
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < iterations; ++i) one(i % 10 == 0 ? 503 : 200);
  double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
      static_cast<double>(iterations);
  std::printf(
      "istio metrics path, both sidecars' share per request (header exchange + two records): "
      "%.0f ns (%.2f us) over %ld requests\n",
      ns, ns / 1000, iterations);
  return 0;
}
