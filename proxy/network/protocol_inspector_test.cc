#include "proxy/network/protocol_inspector.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "common/tls/tls_context.h"

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

// A ClientHello as the TLS library writes it, offering `alpn`.
std::string realClientHello(const std::vector<std::string>& alpn) {
  tls::TlsContextConfig config;
  config.alpn = alpn;
  std::string error;
  auto context = tls::TlsContext::create(config, &error);
  EXPECT_TRUE(context) << error;
  SSL* ssl = context->newSsl();
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_set_connect_state(ssl);
  EXPECT_EQ(SSL_do_handshake(ssl), -1);  // wants the server's answer
  std::string hello(static_cast<size_t>(BIO_pending(out)), '\0');
  BIO_read(out, hello.data(), static_cast<int>(hello.size()));
  SSL_free(ssl);
  return hello;
}

TEST(ProtocolInspectorTest, ClientHelloAlpnOffers) {
  std::vector<std::string> offered;
  std::string hello = realClientHello({"h2", "weft-peer-exchange/1"});
  ASSERT_GT(hello.size(), 50u);
  EXPECT_EQ(clientHelloAlpn(hello, &offered), InspectResult::kDone);
  EXPECT_EQ(offered, (std::vector<std::string>{"h2", "weft-peer-exchange/1"}));
  // Until the whole record is in, it waits; without ALPN, none.
  EXPECT_EQ(clientHelloAlpn(hello.substr(0, hello.size() - 1), &offered),
            InspectResult::kNeedMoreData);
  EXPECT_EQ(clientHelloAlpn(realClientHello({}), &offered), InspectResult::kDone);
  EXPECT_TRUE(offered.empty());
}

TEST(ProtocolInspectorTest, MalformedHellosOfferNothing) {
  std::string hello = realClientHello({"h2"});
  std::vector<std::string> offered;
  // Every truncation of the record's body, its length patched to match:
  // no read past the end, and nothing made up.
  for (size_t cut = 6; cut < hello.size(); ++cut) {
    std::string broken = hello.substr(0, cut);
    size_t body = cut - 5;
    broken[3] = static_cast<char>(body >> 8);
    broken[4] = static_cast<char>(body & 0xff);
    EXPECT_EQ(clientHelloAlpn(broken, &offered), InspectResult::kDone) << cut;
    EXPECT_TRUE(offered.empty() || offered == std::vector<std::string>{"h2"}) << cut;
  }
  EXPECT_EQ(clientHelloAlpn(std::string("\x16\x03\x01\xff\xff", 5), &offered),
            InspectResult::kDone);  // longer than any record
  EXPECT_EQ(clientHelloAlpn(std::string("\x17\x03\x03\x00\x01x", 6), &offered),
            InspectResult::kDone);  // application data, not a handshake
  EXPECT_TRUE(offered.empty());
}

TEST(ProtocolInspectorTest, NotHttp) {
  EXPECT_EQ(inspect("hello world\r\n", InspectResult::kDone), "");
  EXPECT_EQ(inspect("GET / SMTP/1.0\r\n", InspectResult::kDone), "");
  EXPECT_EQ(inspect("EHLO mail.example.com\r\n", InspectResult::kDone), "");
}

}  // namespace
}  // namespace weft::network
