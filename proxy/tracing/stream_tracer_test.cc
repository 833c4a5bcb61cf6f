#include "proxy/tracing/stream_tracer.h"

#include <gtest/gtest.h>

#include <vector>

namespace weft::tracing {
namespace {

class CollectingExporter : public SpanExporter {
 public:
  void submit(Span&& span) override { spans.push_back(std::move(span)); }
  std::vector<Span> spans;
};

struct Fixture {
  std::shared_ptr<CollectingExporter> exporter = std::make_shared<CollectingExporter>();
  std::mt19937_64 rng{7};

  std::shared_ptr<const TracingConfig> config(double random_sampling, double overall = 1.0) {
    auto c = std::make_shared<TracingConfig>();
    c->random_sampling = random_sampling;
    c->overall_sampling = overall;
    c->max_path_tag_length = 12;
    c->exporter = exporter;
    return c;
  }
};

http::HeaderMap request(std::initializer_list<std::pair<const char*, const char*>> extra = {}) {
  http::HeaderMap h;
  h.add(":method", "GET");
  h.add(":path", "/reviews/1?page=2");
  h.add(":authority", "reviews:9080");
  h.add("x-request-id", "req-1");
  for (const auto& [k, v] : extra) h.add(k, v);
  return h;
}

TEST(StreamTracerTest, ANewTraceIsARootSpanWhoseIdTheRequestCarriesOn) {
  Fixture f;
  auto headers = request();
  StreamTracer tracer(f.config(1.0), headers, SpanKind::kClient, f.rng, 1000);
  ASSERT_TRUE(tracer.sampled());
  auto passed = parseTraceparent(*headers.get("traceparent"));
  ASSERT_TRUE(passed);
  EXPECT_EQ(passed->trace_id, tracer.traceId());
  EXPECT_EQ(passed->parent_span_id, tracer.spanId());
  EXPECT_TRUE(passed->sampled);
  SpanOutcome outcome;
  outcome.response_code = 200;
  outcome.response_flags = "-";
  outcome.upstream_cluster = "outbound|9080||reviews.shop.svc.cluster.local";
  tracer.finish("reviews.shop.svc.cluster.local", "10.0.0.1:5000", outcome, 4000);
  ASSERT_EQ(f.exporter->spans.size(), 1u);
  const Span& span = f.exporter->spans[0];
  EXPECT_EQ(span.parent_span_id, "");
  EXPECT_EQ(span.kind, SpanKind::kClient);
  EXPECT_EQ(span.name, "reviews.shop.svc.cluster.local/*");
  EXPECT_EQ(span.start_time_us, 1000);
  EXPECT_EQ(span.end_time_us, 4000);
  EXPECT_FALSE(span.error);
  auto tag = [&](const std::string& key) {
    for (const auto& [k, v] : span.attributes)
      if (k == key) return v;
    return std::string("<absent>");
  };
  EXPECT_EQ(tag("http.url"), "http://reviews:9080/reviews/1?p");  // max_path_tag_length 12
  EXPECT_EQ(tag("guid:x-request-id"), "req-1");
  EXPECT_EQ(tag("http.status_code"), "200");
  EXPECT_EQ(tag("error"), "<absent>");
}

TEST(StreamTracerTest, TheCallersContextAndDecisionWin) {
  Fixture f;
  auto sampled =
      request({{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
  StreamTracer yes(f.config(0.0), sampled, SpanKind::kServer, f.rng, 0);
  EXPECT_TRUE(yes.sampled());  // random_sampling 0 does not overrule the caller
  EXPECT_EQ(yes.traceId(), "4bf92f3577b34da6a3ce929d0e0e4736");
  yes.finish("", "", SpanOutcome{}, 1);
  ASSERT_EQ(f.exporter->spans.size(), 1u);
  EXPECT_EQ(f.exporter->spans[0].parent_span_id, "00f067aa0ba902b7");
  EXPECT_EQ(f.exporter->spans[0].name, "reviews/*");  // no service: the authority's host
  EXPECT_TRUE(f.exporter->spans[0].error);            // no response at all

  auto unsampled =
      request({{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}});
  StreamTracer no(f.config(1.0), unsampled, SpanKind::kServer, f.rng, 0);
  EXPECT_FALSE(no.sampled());
  EXPECT_TRUE(unsampled.get("traceparent")->ends_with("-00"));
  no.finish("", "", SpanOutcome{}, 1);
  EXPECT_EQ(f.exporter->spans.size(), 1u);
}

TEST(StreamTracerTest, OverallSamplingCapsEvenTheCallersDecision) {
  Fixture f;
  auto headers =
      request({{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
  StreamTracer tracer(f.config(1.0, 0.0), headers, SpanKind::kServer, f.rng, 0);
  EXPECT_FALSE(tracer.sampled());
  EXPECT_TRUE(headers.get("traceparent")->ends_with("-00"));
}

TEST(StreamTracerTest, RandomSamplingTakesItsShare) {
  Fixture f;
  auto config = f.config(0.1);
  int sampled = 0;
  for (int i = 0; i < 10000; ++i) {
    auto headers = request();
    sampled += StreamTracer(config, headers, SpanKind::kServer, f.rng, 0).sampled();
  }
  EXPECT_GT(sampled, 850);  // mean 1000, sd 30
  EXPECT_LT(sampled, 1150);
}

}  // namespace
}  // namespace weft::tracing
