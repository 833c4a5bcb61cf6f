#include "common/tls/tls_socket.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "security/certificate_authority.h"

// Real handshakes between two TlsSockets joined in memory: what each writes
// for the wire is handed to the other. The suite runs this against both TLS
// libraries (//common/tls:unit_tests with --config=boringssl), so
// every outcome the proxy reports — identities, ALPN, and the failure reasons
// weft_tls_handshake_failures_total counts — means the same on either.

namespace weft::tls {
namespace {

constexpr char kClientId[] = "spiffe://cluster.local/ns/default/sa/client";
constexpr char kServerId[] = "spiffe://cluster.local/ns/default/sa/echo";

// One end: collects the wire bytes and what the socket reported.
struct End : network::TransportSocketCallbacks {
  std::unique_ptr<TlsSocket> socket;
  std::string wire;  // written, not yet handed to the peer
  std::string received;
  bool complete = false;
  bool failed = false;
  bool closed = false;

  void writeRaw(std::string_view bytes) override { wire.append(bytes); }
  bool deliver(std::string_view plaintext) override {
    received.append(plaintext);
    return true;
  }
  void onHandshakeComplete() override { complete = true; }
  void onHandshakeFailed() override { failed = true; }
  void onTransportClosed() override { closed = true; }
};

class TlsSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ca_ = security::CertificateAuthority::generateRoot("test root", 3600, &error);
    ASSERT_NE(ca_, nullptr) << error;
    other_ca_ = security::CertificateAuthority::generateRoot("another root", 3600, &error);
    ASSERT_NE(other_ca_, nullptr) << error;
  }

  // A workload's certificate and key from `ca`, as PEM.
  std::pair<std::string, std::string> workload(const security::CertificateAuthority& ca,
                                               const std::string& uri, int64_t lifetime_s = 3600,
                                               int64_t not_before_offset_s = -300) {
    security::EvpPkeyPtr key = security::generateP256Key();
    security::IssueOptions options;
    options.uris = {uri};
    options.lifetime_s = lifetime_s;
    options.not_before_offset_s = not_before_offset_s;
    std::string error;
    security::X509Ptr cert = ca.issue(key.get(), options, &error);
    EXPECT_NE(cert, nullptr) << error;
    return {security::certificateToPem(cert.get()), security::privateKeyToPem(key.get())};
  }

  TlsContextPtr context(TlsContextConfig config) {
    std::string error;
    TlsContextPtr made = TlsContext::create(std::move(config), &error);
    EXPECT_NE(made, nullptr) << error;
    return made;
  }

  // The STRICT inbound side: our certificate, client certificates required
  // and verified against the mesh root.
  TlsContextConfig serverConfig() {
    auto [cert, key] = workload(*ca_, kServerId);
    TlsContextConfig config;
    config.server = true;
    config.certificate_chain_pem = cert;
    config.private_key_pem = key;
    config.trusted_ca_pem = ca_->certificatePem();
    config.require_client_certificate = true;
    config.alpn = {"h2", "http/1.1"};
    return config;
  }
  // The outbound side: our certificate, the server's SPIFFE ID verified.
  TlsContextConfig clientConfig(const security::CertificateAuthority& issuer) {
    auto [cert, key] = workload(issuer, kClientId);
    TlsContextConfig config;
    config.certificate_chain_pem = cert;
    config.private_key_pem = key;
    config.trusted_ca_pem = ca_->certificatePem();
    config.match_sans.push_back({SanMatcher::Kind::kExact, kServerId});
    config.alpn = {"h2"};
    config.sni = "outbound_.8080_._.echo.default.svc.cluster.local";
    return config;
  }

  void start(TlsContextPtr client_context, TlsContextPtr server_context) {
    client_.socket = std::make_unique<TlsSocket>(std::move(client_context), nullptr);
    client_.socket->setCallbacks(&client_);
    server_.socket = std::make_unique<TlsSocket>(std::move(server_context), nullptr);
    server_.socket->setCallbacks(&server_);
    client_.socket->onConnected();
    server_.socket->onConnected();
    pump();
  }

  // Hands each side's wire bytes to the other until neither writes more.
  void pump() {
    for (int round = 0; round < 20 && !(client_.wire.empty() && server_.wire.empty()); ++round) {
      std::string to_server = std::exchange(client_.wire, {});
      if (!to_server.empty() && !server_.failed) server_.socket->onRawData(to_server);
      std::string to_client = std::exchange(server_.wire, {});
      if (!to_client.empty() && !client_.failed) client_.socket->onRawData(to_client);
    }
  }

  std::unique_ptr<security::CertificateAuthority> ca_;
  std::unique_ptr<security::CertificateAuthority> other_ca_;
  End client_;
  End server_;
};

TEST_F(TlsSocketTest, MutualHandshakeCarriesBothIdentitiesAlpnAndData) {
  start(context(clientConfig(*ca_)), context(serverConfig()));
  ASSERT_TRUE(client_.complete) << client_.socket->failureDetail();
  ASSERT_TRUE(server_.complete) << server_.socket->failureDetail();
  EXPECT_EQ(server_.socket->info().peer_identity, kClientId);
  EXPECT_EQ(server_.socket->info().local_identity, kServerId);
  EXPECT_EQ(client_.socket->info().peer_identity, kServerId);
  EXPECT_EQ(client_.socket->info().alpn, "h2");
  EXPECT_EQ(server_.socket->info().alpn, "h2");
  EXPECT_EQ(server_.socket->info().peer_cert_hash.size(), 64u);

  client_.socket->write("ping");
  pump();
  EXPECT_EQ(server_.received, "ping");
  server_.socket->write(std::string(100000, 'x'));  // several records
  pump();
  EXPECT_EQ(client_.received.size(), 100000u);

  client_.socket->shutdown();  // close_notify
  pump();
  EXPECT_TRUE(server_.closed);
}

TEST_F(TlsSocketTest, PlaintextToATlsPortIsNotTls) {
  server_.socket = std::make_unique<TlsSocket>(context(serverConfig()), nullptr);
  server_.socket->setCallbacks(&server_);
  server_.socket->onConnected();
  server_.socket->onRawData("GET / HTTP/1.1\r\nhost: echo\r\n\r\n");
  EXPECT_TRUE(server_.failed);
  EXPECT_EQ(server_.socket->failureReason(), "not_tls") << server_.socket->failureDetail();
}

TEST_F(TlsSocketTest, ClientWithoutACertificateIsRefusedUnderStrict) {
  TlsContextConfig anonymous = clientConfig(*ca_);
  anonymous.certificate_chain_pem.clear();
  anonymous.private_key_pem.clear();
  start(context(anonymous), context(serverConfig()));
  EXPECT_TRUE(server_.failed);
  EXPECT_EQ(server_.socket->failureReason(), "no_client_certificate")
      << server_.socket->failureDetail();
}

TEST_F(TlsSocketTest, ClientCertificateFromAnotherRootIsAnUnknownCa) {
  start(context(clientConfig(*other_ca_)), context(serverConfig()));
  EXPECT_TRUE(server_.failed);
  EXPECT_EQ(server_.socket->failureReason(), "unknown_ca") << server_.socket->failureDetail();
  // (TLS 1.3: the client finished its side before the server judged its
  // certificate; it learns of the refusal from the alert that follows.)
}

TEST_F(TlsSocketTest, ServerWithTheWrongIdentityIsAMismatchAtTheClient) {
  TlsContextConfig expects_other = clientConfig(*ca_);
  expects_other.match_sans[0].value = "spiffe://cluster.local/ns/default/sa/db";
  start(context(expects_other), context(serverConfig()));
  EXPECT_TRUE(client_.failed);
  EXPECT_EQ(client_.socket->failureReason(), "identity_mismatch")
      << client_.socket->failureDetail();
  // The server learns of it from the client's alert.
  EXPECT_TRUE(server_.failed);
  EXPECT_EQ(server_.socket->failureReason(), "peer_alert") << server_.socket->failureDetail();
}

TEST_F(TlsSocketTest, ExpiredServerCertificateIsExpiredAtTheClient) {
  TlsContextConfig server = serverConfig();
  auto [cert, key] = workload(*ca_, kServerId, /*lifetime_s=*/-3600, /*not_before_offset_s=*/-7200);
  server.certificate_chain_pem = cert;
  server.private_key_pem = key;
  start(context(clientConfig(*ca_)), context(server));
  EXPECT_TRUE(client_.failed);
  EXPECT_EQ(client_.socket->failureReason(), "certificate_expired")
      << client_.socket->failureDetail();
}

// An external host (TLS origination): no client certificate, the server
// known by its DNS name, a wildcard certificate covering one label.
TEST_F(TlsSocketTest, AServerIsVerifiedByItsDnsName) {
  auto handshake = [&](const std::string& cert_name, SanMatcher wanted) {
    security::EvpPkeyPtr key = security::generateP256Key();
    security::IssueOptions options;
    options.dns_names = {cert_name};
    std::string error;
    security::X509Ptr cert = ca_->issue(key.get(), options, &error);
    EXPECT_NE(cert, nullptr) << error;
    TlsContextConfig server;
    server.server = true;
    server.certificate_chain_pem = security::certificateToPem(cert.get());
    server.private_key_pem = security::privateKeyToPem(key.get());
    TlsContextConfig client;
    client.trusted_ca_pem = ca_->certificatePem();
    client.sni = wanted.value;
    client.match_sans.push_back(wanted);
    client_ = End();
    server_ = End();
    start(context(client), context(server));
    return client_.complete ? std::string("ok") : client_.socket->failureReason();
  };
  auto dns = [](const std::string& name) {
    return SanMatcher{SanMatcher::Kind::kExact, name, SanMatcher::Type::kDns};
  };
  EXPECT_EQ(handshake("api.example.test", dns("api.example.test")), "ok");
  EXPECT_EQ(handshake("api.example.test", dns("API.Example.Test")), "ok");  // no case
  EXPECT_EQ(handshake("*.example.test", dns("api.example.test")), "ok");
  EXPECT_EQ(handshake("*.example.test", dns("a.b.example.test")), "identity_mismatch");
  EXPECT_EQ(handshake("other.example.test", dns("api.example.test")), "identity_mismatch");
  // A DNS name never stands in for a URI identity, nor the other way round.
  EXPECT_EQ(handshake("api.example.test", SanMatcher{SanMatcher::Kind::kExact, "api.example.test"}),
            "identity_mismatch");
}

}  // namespace
}  // namespace weft::tls
