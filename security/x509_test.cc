#include "security/x509.h"

#include <gtest/gtest.h>

#include <random>

namespace weft::security {
namespace {

TEST(X509Test, CsrCarriesTheUriAndVerifies) {
  EvpPkeyPtr key = generateP256Key();
  ASSERT_TRUE(key);
  std::string error;
  std::string pem = makeCsrPem(key.get(), "spiffe://cluster.local/ns/a/sa/b", &error);
  ASSERT_FALSE(pem.empty()) << error;
  X509ReqPtr req = parseCsr(pem, &error);
  ASSERT_TRUE(req) << error;
  EXPECT_EQ(csrUriSans(req.get()), std::vector<std::string>{"spiffe://cluster.local/ns/a/sa/b"});
}

TEST(X509Test, GarbageAndTamperedCsrsAreRefused) {
  std::string error;
  EXPECT_FALSE(parseCsr("hello", &error));
  EXPECT_NE(error.find("not a PEM certificate request"), std::string::npos);
  EvpPkeyPtr key = generateP256Key();
  std::string pem = makeCsrPem(key.get(), "spiffe://cluster.local/ns/a/sa/b", &error);
  // Flip bits across the body: every variant is refused or, if it still
  // parses, still verifies only because the flip missed signed content.
  std::mt19937 rng(7);
  size_t body_start = pem.find('\n') + 1, body_end = pem.rfind("-----END");
  int refused = 0;
  for (int i = 0; i < 300; ++i) {
    std::string bad = pem;
    size_t pos = body_start + rng() % (body_end - body_start);
    if (bad[pos] == '\n') continue;
    bad[pos] = bad[pos] == 'A' ? 'B' : 'A';
    X509ReqPtr req = parseCsr(bad, &error);
    if (!req) ++refused;
  }
  EXPECT_GT(refused, 250);
}

TEST(X509Test, KeyPemRoundTrips) {
  EvpPkeyPtr key = generateP256Key();
  std::string error;
  EvpPkeyPtr back = parsePrivateKey(privateKeyToPem(key.get()), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(EVP_PKEY_id(back.get()), EVP_PKEY_EC);
  EXPECT_TRUE(
      parseCertificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", &error)
          .empty());
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace weft::security
