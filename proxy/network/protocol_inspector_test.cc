#include "proxy/network/protocol_inspector.h"

#include <gtest/gtest.h>

namespace weft::network {
namespace {

std::string inspect(std::string_view data, InspectResult expected) {
  std::string protocol;
  EXPECT_EQ(inspectHttp(data, &protocol), expected) << data;
  return protocol;
}

TEST(ProtocolInspectorTest, Http1RequestLine) {
  EXPECT_EQ(inspect("GET / HTTP/1.1\r\nHost: x\r\n", InspectResult::kDone), "http/1.1");
  EXPECT_EQ(inspect("POST /a?b HTTP/1.0\r\n", InspectResult::kDone), "http/1.0");
  inspect("GET /partial", InspectResult::kNeedMoreData);
  inspect("GE", InspectResult::kNeedMoreData);
}

TEST(ProtocolInspectorTest, Http2Preface) {
  EXPECT_EQ(inspect("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", InspectResult::kDone), "h2c");
  inspect("PRI * HTTP/2", InspectResult::kNeedMoreData);
}

TEST(ProtocolInspectorTest, TlsClientHello) {
  EXPECT_EQ(inspect("\x16\x03\x01", InspectResult::kDone), "tls");
  EXPECT_EQ(inspect("\x16\x03\x03\x01\x10", InspectResult::kDone), "tls");
  inspect("\x16\x03", InspectResult::kNeedMoreData);
  EXPECT_EQ(inspect("\x16\x02\x01", InspectResult::kDone), "");  // SSLv2-era: not ours
}

TEST(ProtocolInspectorTest, NotHttp) {
  EXPECT_EQ(inspect("hello world\r\n", InspectResult::kDone), "");
  EXPECT_EQ(inspect("GET / SMTP/1.0\r\n", InspectResult::kDone), "");
  EXPECT_EQ(inspect("EHLO mail.example.com\r\n", InspectResult::kDone), "");
}

}  // namespace
}  // namespace weft::network
