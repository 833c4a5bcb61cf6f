#include "proxy/router/request_hash.h"

#include <gtest/gtest.h>

#include "proxy/upstream/hash_lb.h"

namespace weft::router {
namespace {

using Kind = config::HashPolicy::Kind;

config::HashPolicy policy(Kind kind, std::string name = "", bool terminal = false) {
  config::HashPolicy p;
  p.kind = kind;
  p.name = std::move(name);
  p.terminal = terminal;
  return p;
}

TEST(RequestHashTest, HeaderHashIsTheValuesHash) {
  http::HeaderMap request;
  request.add("x-user", "alice");
  std::mt19937_64 rng(1);
  auto out = hashRequest({policy(Kind::kHeader, "x-user")}, request, nullptr, rng);
  ASSERT_TRUE(out.hash);
  EXPECT_EQ(*out.hash, upstream::hashKey("alice"));
  EXPECT_TRUE(out.set_cookie.empty());
}

TEST(RequestHashTest, NothingFoundIsNoHash) {
  http::HeaderMap request;
  std::mt19937_64 rng(1);
  EXPECT_FALSE(hashRequest({policy(Kind::kHeader, "x-user"), policy(Kind::kCookie, "session")},
                           request, nullptr, rng)
                   .hash);
}

TEST(RequestHashTest, SourceIpIgnoresThePort) {
  http::HeaderMap request;
  std::mt19937_64 rng(1);
  auto a = network::Address::fromIpPort("10.1.2.3", 1000);
  auto b = network::Address::fromIpPort("10.1.2.3", 2000);
  auto ha = hashRequest({policy(Kind::kSourceIp)}, request, &*a, rng).hash;
  auto hb = hashRequest({policy(Kind::kSourceIp)}, request, &*b, rng).hash;
  ASSERT_TRUE(ha);
  EXPECT_EQ(ha, hb);
}

TEST(RequestHashTest, CookiesAreFoundInEverySplitHeader) {
  http::HeaderMap request;
  request.add("cookie", "a=1; theme=dark");
  request.add("cookie", "session=\"abc\"; b=2");
  EXPECT_EQ(findCookie(request, "session"), "abc");
  EXPECT_EQ(findCookie(request, "theme"), "dark");
  EXPECT_FALSE(findCookie(request, "sess"));
  std::mt19937_64 rng(1);
  EXPECT_EQ(hashRequest({policy(Kind::kCookie, "session")}, request, nullptr, rng).hash,
            upstream::hashKey("abc"));
}

TEST(RequestHashTest, AMissingCookieWithATtlIsMadeUpAndSet) {
  http::HeaderMap request;
  std::mt19937_64 rng(7);
  auto p = policy(Kind::kCookie, "session");
  p.cookie_ttl_ms = 3600000;
  p.cookie_path = "/";
  auto out = hashRequest({p}, request, nullptr, rng);
  ASSERT_TRUE(out.hash);
  ASSERT_EQ(out.set_cookie.rfind("session=\"", 0), 0u) << out.set_cookie;
  EXPECT_NE(out.set_cookie.find("; Max-Age=3600; Path=/; HttpOnly"), std::string::npos);
  // The client sends it back: the same hash, nothing set again.
  http::HeaderMap next;
  next.add("cookie", out.set_cookie.substr(0, out.set_cookie.find(';')));
  auto again = hashRequest({p}, next, nullptr, rng);
  EXPECT_EQ(again.hash, out.hash);
  EXPECT_TRUE(again.set_cookie.empty());
}

TEST(RequestHashTest, PoliciesCombineAndATerminalOneEndsTheList) {
  http::HeaderMap request;
  request.add("x-a", "1");
  request.add("x-b", "2");
  std::mt19937_64 rng(1);
  auto a = upstream::hashKey("1");
  auto both = hashRequest({policy(Kind::kHeader, "x-a"), policy(Kind::kHeader, "x-b")}, request,
                          nullptr, rng);
  EXPECT_EQ(*both.hash, ((a << 1) | (a >> 63)) ^ upstream::hashKey("2"));
  auto terminal = hashRequest({policy(Kind::kHeader, "x-a", true), policy(Kind::kHeader, "x-b")},
                              request, nullptr, rng);
  EXPECT_EQ(*terminal.hash, a);
}

}  // namespace
}  // namespace weft::router
