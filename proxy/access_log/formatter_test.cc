#include "proxy/access_log/formatter.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "proxy/stream_info/response_flags.h"

namespace weft::access_log {
namespace {

class FormatterTest : public ::testing::Test {
 protected:
  FormatterTest()
      : remote_(*network::Address::fromIpPort("10.1.2.3", 41234)),
        local_(*network::Address::fromIpPort("10.1.2.4", 8080)) {
    request_.add(":method", "GET");
    request_.add(":path", "/reviews/1");
    request_.add(":authority", "reviews");
    request_.add("x-request-id", "6f1c");
    request_.add("user-agent", "curl/7.88 \"quoted\"\x01");
    response_.add(":status", "503");
    record_.start_time_us = 1796299200123456;  // 2026-12-03T12:00:00.123Z
    record_.request_headers = &request_;
    record_.response_headers = &response_;
    record_.protocol = "HTTP/1.1";
    record_.response_code = 503;
    record_.response_flags =
        stream_info::flagBit(stream_info::ResponseFlag::kUpstreamConnectionFailure) |
        stream_info::flagBit(stream_info::ResponseFlag::kUpstreamRetryLimitExceeded);
    record_.bytes_received = 12;
    record_.bytes_sent = 91;
    record_.duration_ms = 7;
    record_.upstream_host = "10.9.9.9:8080";
    record_.upstream_cluster = "outbound|80||reviews.shop.svc.cluster.local";
    record_.downstream_remote = &remote_;
    record_.downstream_local = &local_;
    record_.downstream_peer_uri_san = "spiffe://cluster.local/ns/shop/sa/web";
  }

  std::string text(const std::string& format, bool omit_empty = false) {
    std::string error;
    auto formatter = Formatter::text(format, omit_empty, &error);
    EXPECT_NE(formatter, nullptr) << error;
    std::string out;
    if (formatter) formatter->format(record_, &out);
    return out;
  }

  std::string textError(const std::string& format) {
    std::string error;
    EXPECT_EQ(Formatter::text(format, false, &error), nullptr) << format;
    return error;
  }

  network::Address remote_, local_;
  http::HeaderMap request_, response_;
  AccessLogRecord record_;
};

TEST_F(FormatterTest, EnvoysDefaultFormat) {
  EXPECT_EQ(text(kDefaultTextFormat),
            "[2026-12-03T12:00:00.123Z] \"GET /reviews/1 HTTP/1.1\" 503 UF,URX 12 91 7 - \"-\" "
            "\"curl/7.88 \"quoted\"\x01\" \"6f1c\" \"reviews\" \"10.9.9.9:8080\"\n");
}

TEST_F(FormatterTest, HeadersWithAlternativesAndLengths) {
  EXPECT_EQ(text("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(:PATH):4% %RESP(:STATUS)% "
                 "%REQ(TRACEPARENT)%"),
            "/reviews/1 /rev 503 -\n");
  request_.add("x-envoy-original-path", "/original");
  EXPECT_EQ(text("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"), "/original\n");
  EXPECT_EQ(text("[%REQ(TRACEPARENT)%]", true), "[]\n");  // omit_empty_values
}

TEST_F(FormatterTest, ConnectionOperators) {
  EXPECT_EQ(text("%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
                 "%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_PEER_URI_SAN% %UPSTREAM_CLUSTER%"),
            "10.1.2.3:41234 10.1.2.3 10.1.2.4:8080 spiffe://cluster.local/ns/shop/sa/web "
            "outbound|80||reviews.shop.svc.cluster.local\n");
  AccessLogRecord tcp;
  tcp.bytes_received = 5;
  record_ = tcp;
  EXPECT_EQ(text("%PROTOCOL% %REQ(:METHOD)% %UPSTREAM_HOST% %BYTES_RECEIVED% %RESPONSE_FLAGS%"),
            "- - - 5 -\n");
}

TEST_F(FormatterTest, MistakesAreNamed) {
  EXPECT_NE(textError("%NOPE%").find("unknown command operator %NOPE%"), std::string::npos);
  EXPECT_NE(textError("%REQ%").find("needs a header"), std::string::npos);
  EXPECT_NE(textError("%START_TIME(%s)%").find("without an argument"), std::string::npos);
  EXPECT_NE(textError("%REQ(:PATH%").find("closing ')'"), std::string::npos);
  EXPECT_NE(textError("100% sure").find("offset 3"), std::string::npos);
  EXPECT_NE(textError("%DURATION:3%").find("only on"), std::string::npos);
}

TEST_F(FormatterTest, JsonIsTypedAndAlwaysValid) {
  google::protobuf::Struct format;
  auto& f = *format.mutable_fields();
  f["start_time"].set_string_value("%START_TIME%");
  f["method"].set_string_value("%REQ(:METHOD)%");
  f["code"].set_string_value("%RESPONSE_CODE%");
  f["duration"].set_string_value("%DURATION%");
  f["flags"].set_string_value("%RESPONSE_FLAGS%");
  f["traceparent"].set_string_value("%REQ(TRACEPARENT)%");
  f["agent"].set_string_value("%REQ(USER-AGENT)%");
  f["route"].set_string_value("%REQ(:METHOD)% %REQ(:PATH)%");
  f["mesh"].set_number_value(1);
  (*f["peer"].mutable_struct_value()->mutable_fields())["uri"].set_string_value(
      "%DOWNSTREAM_PEER_URI_SAN%");
  std::string error;
  auto formatter = Formatter::json(format, false, &error);
  ASSERT_NE(formatter, nullptr) << error;
  std::string line;
  formatter->format(record_, &line);
  ASSERT_EQ(line.back(), '\n');
  auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["start_time"], "2026-12-03T12:00:00.123Z");
  EXPECT_EQ(parsed["code"], 503);  // a number, not "503"
  EXPECT_EQ(parsed["duration"], 7);
  EXPECT_EQ(parsed["flags"], "UF,URX");
  EXPECT_TRUE(parsed["traceparent"].is_null());
  EXPECT_EQ(parsed["agent"], "curl/7.88 \"quoted\"\x01");
  EXPECT_EQ(parsed["route"], "GET /reviews/1");
  EXPECT_EQ(parsed["mesh"], 1);
  EXPECT_EQ(parsed["peer"]["uri"], "spiffe://cluster.local/ns/shop/sa/web");

  auto omitting = Formatter::json(format, true, &error);
  line.clear();
  omitting->format(record_, &line);
  EXPECT_FALSE(nlohmann::json::parse(line).contains("traceparent"));

  (*format.mutable_fields())["bad"].set_string_value("%WHAT%");
  EXPECT_EQ(Formatter::json(format, false, &error), nullptr);
  EXPECT_NE(error.find("bad: unknown command operator %WHAT%"), std::string::npos) << error;
}

}  // namespace
}  // namespace weft::access_log
