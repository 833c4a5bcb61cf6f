#include "proxy/tracing/trace_context.h"

#include <gtest/gtest.h>

namespace weft::tracing {
namespace {

http::HeaderMap headers(std::initializer_list<std::pair<const char*, const char*>> kv) {
  http::HeaderMap h;
  for (const auto& [k, v] : kv) h.add(k, v);
  return h;
}

TEST(TraceContextTest, W3cTraceparentAndTracestate) {
  auto context =
      extract(headers({{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                       {"tracestate", "congo=t61rcWkgMzE"}}));
  ASSERT_TRUE(context);
  EXPECT_EQ(context->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(context->parent_span_id, "00f067aa0ba902b7");
  EXPECT_TRUE(context->sampled);
  http::HeaderMap out;
  inject(*context, "b7ad6b7169203331", out);
  EXPECT_EQ(*out.get("traceparent"), "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01");
  EXPECT_EQ(*out.get("tracestate"), "congo=t61rcWkgMzE");
  EXPECT_EQ(out.get("b3"), nullptr);
}

TEST(TraceContextTest, MalformedTraceparentsStartANewTrace) {
  for (const char* bad : {
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero parent
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // forbidden version
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // v00 with more
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
       }) {
    EXPECT_FALSE(parseTraceparent(bad)) << bad;
  }
  // A later version may append fields; its first part is read.
  EXPECT_TRUE(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra"));
  EXPECT_FALSE(
      parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")->sampled);
}

TEST(TraceContextTest, B3MultiWith64BitIdsAndTheDecisionLeftToUs) {
  auto context =
      extract(headers({{"x-b3-traceid", "463AC35C9F6413AD"}, {"x-b3-spanid", "a2fb4a1d1a96d312"}}));
  ASSERT_TRUE(context);
  EXPECT_EQ(context->trace_id, "0000000000000000463ac35c9f6413ad");
  EXPECT_FALSE(context->sampling_decided);
  context->sampled = true;
  http::HeaderMap out;
  inject(*context, "0020000000000001", out);
  EXPECT_EQ(*out.get("x-b3-traceid"), "0000000000000000463ac35c9f6413ad");
  EXPECT_EQ(*out.get("x-b3-spanid"), "0020000000000001");
  EXPECT_EQ(*out.get("x-b3-parentspanid"), "a2fb4a1d1a96d312");
  EXPECT_EQ(*out.get("x-b3-sampled"), "1");
  EXPECT_EQ(*out.get("traceparent"), "00-0000000000000000463ac35c9f6413ad-0020000000000001-01");
  auto debug = extract(headers({{"x-b3-traceid", "463ac35c9f6413ad"},
                                {"x-b3-spanid", "a2fb4a1d1a96d312"},
                                {"x-b3-flags", "1"}}));
  EXPECT_TRUE(debug->sampled);
}

TEST(TraceContextTest, B3Single) {
  auto context = extract(
      headers({{"b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"}}));
  ASSERT_TRUE(context);
  EXPECT_EQ(context->format, Propagation::kB3Single);
  EXPECT_EQ(context->parent_span_id, "e457b5a2e4d86bd1");
  EXPECT_TRUE(context->sampled);
  http::HeaderMap out;
  inject(*context, "1111111111111111", out);
  EXPECT_EQ(*out.get("b3"), "80f198ee56343ba864fe8b2a57d3eff7-1111111111111111-1-e457b5a2e4d86bd1");
  EXPECT_FALSE(extract(headers({{"b3", "0"}})));  // a decision without ids
  EXPECT_FALSE(extract(headers({{"b3", "80f198ee56343ba864fe8b2a57d3eff7-xyz-1"}})));
}

TEST(TraceContextTest, NewIdsAreNonZeroHex) {
  std::mt19937_64 rng(7);
  std::string trace = newTraceId(rng), span = newSpanId(rng);
  EXPECT_EQ(trace.size(), 32u);
  EXPECT_EQ(span.size(), 16u);
  EXPECT_TRUE(parseTraceparent(formatTraceparent(trace, span, true)));
}

}  // namespace
}  // namespace weft::tracing
