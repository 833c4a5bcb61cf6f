#include "security/spiffe_id.h"

#include <gtest/gtest.h>

#include <random>

namespace weft::security {
namespace {

TEST(SpiffeIdTest, WorkloadIdRoundTrips) {
  std::string error;
  auto id = parseWorkloadId("spiffe://cluster.local/ns/shop/sa/cart-v2", &error);
  ASSERT_TRUE(id) << error;
  EXPECT_EQ(id->trust_domain, "cluster.local");
  EXPECT_EQ(id->ns, "shop");
  EXPECT_EQ(id->service_account, "cart-v2");
  EXPECT_EQ(id->uri(), "spiffe://cluster.local/ns/shop/sa/cart-v2");
}

TEST(SpiffeIdTest, RefusesWhatIsNotAWorkloadIdWithAReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"http://cluster.local/ns/a/sa/b", "spiffe://"},
      {"SPIFFE://cluster.local/ns/a/sa/b", "spiffe://"},
      {"spiffe:///ns/a/sa/b", "empty trust domain"},
      {"spiffe://Cluster.local/ns/a/sa/b", "trust domain"},
      {"spiffe://cluster.local:8443/ns/a/sa/b", "trust domain"},
      {"spiffe://user@cluster.local/ns/a/sa/b", "trust domain"},
      {"spiffe://cluster.local", "no workload path"},
      {"spiffe://cluster.local/", "end with /"},
      {"spiffe://cluster.local/ns//sa/b", "empty path segment"},
      {"spiffe://cluster.local/ns/a/sa/b/", "empty path segment"},
      {"spiffe://cluster.local/ns/../sa/b", ". or .."},
      {"spiffe://cluster.local/ns/a%2Fb/sa/c", "found '%'"},
      {"spiffe://cluster.local/ns/a/sa/b?x=1", "found '?'"},
      {"spiffe://cluster.local/ns/a/sa/b#f", "found '#'"},
      {"spiffe://cluster.local/ns/a/sa", "not /ns/"},
      {"spiffe://cluster.local/ns/a/sa/b/c", "not /ns/"},
      {"spiffe://cluster.local/sa/a/ns/b", "not /ns/"},
  };
  for (const auto& [uri, reason] : cases) {
    std::string error;
    EXPECT_FALSE(parseWorkloadId(uri, &error)) << uri;
    EXPECT_NE(error.find(reason), std::string::npos) << uri << " -> " << error;
  }
}

// Property: over random strings near the valid shape, whatever parses
// prints back as exactly the input (no two spellings of one identity, so a
// CSR cannot smuggle a different identity past an equality check), and
// nothing crashes.
TEST(SpiffeIdTest, ParsedIdsPrintBackExactly) {
  std::mt19937 rng(20261123);
  const std::string alphabet = "spiffe:/ns/sa.-_aZ09%?#@:./";
  const std::string base = "spiffe://td/ns/a/sa/b";
  int parsed = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string s = base;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0:
          s.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 1:
          if (pos < s.size()) s.erase(pos, 1);
          break;
        default:
          if (pos < s.size()) s[pos] = alphabet[rng() % alphabet.size()];
      }
    }
    std::string error;
    auto id = parseWorkloadId(s, &error);
    if (id) {
      ++parsed;
      EXPECT_EQ(id->uri(), s);
      EXPECT_TRUE(isValidSpiffeUri(s, &error));
    } else {
      EXPECT_FALSE(error.empty()) << s;
    }
  }
  EXPECT_GT(parsed, 1000);  // the generator does reach valid identities
}

}  // namespace
}  // namespace weft::security
