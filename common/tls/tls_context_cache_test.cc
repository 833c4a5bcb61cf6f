#include "common/tls/tls_context_cache.h"

#include <gtest/gtest.h>

#include "security/certificate_authority.h"

namespace weft::tls {
namespace {

TlsContextConfig clientConfig(const std::string& ca_pem, const std::string& sni) {
  TlsContextConfig config;
  config.trusted_ca_pem = ca_pem;
  config.sni = sni;
  config.alpn = {"h2"};
  config.match_sans.push_back({SanMatcher::Kind::kExact, "spiffe://cluster.local/ns/a/sa/b"});
  return config;
}

class TlsContextCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    auto ca = security::CertificateAuthority::generateRoot("test root", 3600, &error);
    ASSERT_NE(ca, nullptr) << error;
    ca_pem_ = ca->certificatePem();
  }
  std::string ca_pem_;
  TlsContextCache cache_;
};

TEST_F(TlsContextCacheTest, AnIdenticalConfigurationGetsTheContextInService) {
  std::string error;
  TlsContextPtr first = cache_.getOrCreate(clientConfig(ca_pem_, "web"), &error);
  ASSERT_NE(first, nullptr) << error;
  TlsContextPtr again = cache_.getOrCreate(clientConfig(ca_pem_, "web"), &error);
  EXPECT_EQ(again, first) << "a repeated push must not build a new SSL_CTX";
}

TEST_F(TlsContextCacheTest, AnyDifferenceMakesANewContext) {
  std::string error;
  TlsContextPtr web = cache_.getOrCreate(clientConfig(ca_pem_, "web"), &error);
  TlsContextPtr other_sni = cache_.getOrCreate(clientConfig(ca_pem_, "api"), &error);
  TlsContextConfig other_san = clientConfig(ca_pem_, "web");
  other_san.match_sans[0].kind = SanMatcher::Kind::kPrefix;
  TlsContextPtr prefix = cache_.getOrCreate(other_san, &error);
  TlsContextConfig no_alpn = clientConfig(ca_pem_, "web");
  no_alpn.alpn.clear();
  TlsContextPtr plain = cache_.getOrCreate(no_alpn, &error);
  ASSERT_NE(web, nullptr);
  EXPECT_NE(other_sni, web);
  EXPECT_NE(prefix, web);
  EXPECT_NE(plain, web);
  EXPECT_EQ(cache_.liveEntries(), 4u);
}

TEST_F(TlsContextCacheTest, AContextNoConfigurationUsesIsLetGo) {
  std::string error;
  TlsContextPtr context = cache_.getOrCreate(clientConfig(ca_pem_, "web"), &error);
  ASSERT_NE(context, nullptr);
  EXPECT_EQ(cache_.liveEntries(), 1u);
  context.reset();
  EXPECT_EQ(cache_.liveEntries(), 0u) << "the cache must not keep contexts alive";
}

TEST_F(TlsContextCacheTest, ABadConfigurationIsAnErrorAndNotCached) {
  std::string error;
  TlsContextConfig bad = clientConfig("not a certificate", "web");
  EXPECT_EQ(cache_.getOrCreate(bad, &error), nullptr);
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(cache_.liveEntries(), 0u);
}

}  // namespace
}  // namespace weft::tls
