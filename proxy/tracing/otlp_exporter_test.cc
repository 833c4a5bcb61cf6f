#include "proxy/tracing/otlp_exporter.h"

#include <gtest/gtest.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace weft::tracing {
namespace {

TEST(OtlpEncodeTest, SpansBecomeOneResourceWithBinaryIdsAndNanoseconds) {
  Span span;
  span.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  span.span_id = "00f067aa0ba902b7";
  span.parent_span_id = "a2fb4a1d1a96d312";
  span.name = "reviews/*";
  span.kind = SpanKind::kClient;
  span.start_time_us = 1700000000000001;
  span.end_time_us = 1700000000000501;
  span.attributes = {{"http.status_code", "503"}};
  span.error = true;
  Span root = span;
  root.parent_span_id.clear();
  root.kind = SpanKind::kServer;
  root.error = false;
  std::string bytes = encodeExportRequest({span, root}, "reviews.shop", {{"k8s.pod.name", "p"}},
                                          {{"node_id", "n"}});
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(bytes));
  ASSERT_EQ(request.resource_spans_size(), 1);
  const auto& rs = request.resource_spans(0);
  ASSERT_EQ(rs.resource().attributes_size(), 2);
  EXPECT_EQ(rs.resource().attributes(0).key(), "service.name");
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "reviews.shop");
  ASSERT_EQ(rs.scope_spans(0).spans_size(), 2);
  const auto& out = rs.scope_spans(0).spans(0);
  EXPECT_EQ(out.trace_id(),
            std::string("\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36", 16));
  EXPECT_EQ(out.span_id(), std::string("\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8));
  EXPECT_EQ(out.parent_span_id().size(), 8u);
  EXPECT_EQ(out.kind(), opentelemetry::proto::trace::v1::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(out.start_time_unix_nano(), 1700000000000001000ull);
  EXPECT_EQ(out.end_time_unix_nano(), 1700000000000501000ull);
  EXPECT_EQ(out.status().code(), opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
  ASSERT_EQ(out.attributes_size(), 2);  // its own, then the process's
  EXPECT_EQ(out.attributes(1).key(), "node_id");
  const auto& second = rs.scope_spans(0).spans(1);
  EXPECT_TRUE(second.parent_span_id().empty());
  EXPECT_EQ(second.kind(), opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(second.status().code(), opentelemetry::proto::trace::v1::Status::STATUS_CODE_UNSET);
}

}  // namespace
}  // namespace weft::tracing
