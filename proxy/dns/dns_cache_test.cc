#include "proxy/dns/dns_cache.h"

#include <gtest/gtest.h>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <algorithm>

#include "common/event/testing/run_until.h"

namespace weft::dns {
namespace {

// Answers what the test sets, at once (on a later loop turn, as the real one).
class FakeResolver : public Resolver {
 public:
  FakeResolver(event::Dispatcher& dispatcher, std::map<std::string, Answer>* answers,
               std::vector<std::string>* asked)
      : dispatcher_(dispatcher), answers_(answers), asked_(asked) {}
  void resolve(const std::string& hostname, LookupFamily, Callback callback) override {
    asked_->push_back(hostname);
    auto it = answers_->find(hostname);
    bool ok = it != answers_->end();
    Answer answer = ok ? it->second : Answer{};
    dispatcher_.post([callback, ok, answer] { callback(ok, answer, ok ? "" : "no such name"); });
  }

 private:
  event::Dispatcher& dispatcher_;
  std::map<std::string, Answer>* answers_;
  std::vector<std::string>* asked_;
};

class DnsCacheTest : public ::testing::Test {
 protected:
  DnsCacheTest()
      : cache_(
            dispatcher_, std::make_unique<FakeResolver>(dispatcher_, &answers_, &asked_),
            [this] { ++changes_; }, &registry_) {}

  size_t asked(const std::string& name) const {
    return static_cast<size_t>(std::count(asked_.begin(), asked_.end(), name));
  }
  std::string metrics() { return prometheus::TextSerializer().Serialize(registry_.Collect()); }

  event::Dispatcher dispatcher_;
  prometheus::Registry registry_;
  std::map<std::string, Answer> answers_;
  std::vector<std::string> asked_;
  int changes_ = 0;
  DnsCache cache_;
};

TEST_F(DnsCacheTest, FirstLookupResolvesThenAnswersFromTheCache) {
  answers_["api.example"] = {{"192.0.2.1", "192.0.2.2"}, 30};
  DnsTarget target{"api.example", LookupFamily::kV4Only, 60000, false};
  EXPECT_EQ(cache_.lookup(target), nullptr);  // not yet: the cluster warms
  ASSERT_TRUE(event::testing::runUntil(dispatcher_, [&] { return changes_ == 1; }));
  const auto* addresses = cache_.lookup(target);
  ASSERT_NE(addresses, nullptr);
  EXPECT_EQ(*addresses, (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(asked("api.example"), 1u);  // the second lookup asked no one
}

TEST_F(DnsCacheTest, RefreshesAtTheRateOrTheTtlAndCallsOnlyOnChange) {
  answers_["rate.example"] = {{"192.0.2.1"}, 1};
  answers_["ttl.example"] = {{"192.0.2.9"}, 1};
  cache_.lookup({"rate.example", LookupFamily::kAuto, 60000, false});
  cache_.lookup({"ttl.example", LookupFamily::kAuto, 60000, true});
  ASSERT_TRUE(event::testing::runUntil(dispatcher_, [&] { return changes_ == 2; }));
  // The TTL (1 s) beats the refresh rate (60 s) only where it is respected.
  EXPECT_TRUE(event::testing::runUntil(
      dispatcher_, [&] { return asked("ttl.example") == 2; }, 3000));
  EXPECT_EQ(asked("rate.example"), 1u);
  EXPECT_EQ(changes_, 2);  // the same answer again: nothing to rebuild
  answers_["ttl.example"] = {{"192.0.2.10"}, 1};
  ASSERT_TRUE(event::testing::runUntil(
      dispatcher_, [&] { return changes_ == 3; }, 3000));
  EXPECT_EQ(*cache_.lookup({"ttl.example", LookupFamily::kAuto, 60000, true}),
            std::vector<std::string>{"192.0.2.10"});
  EXPECT_NE(metrics().find("weft_dns_changes_total 3"), std::string::npos) << metrics();
}

TEST_F(DnsCacheTest, AFailedRefreshKeepsTheLastAnswer) {
  answers_["flaky.example"] = {{"192.0.2.5"}, 0};
  DnsTarget target{"flaky.example", LookupFamily::kAuto, 200, false};
  cache_.lookup(target);
  ASSERT_TRUE(event::testing::runUntil(dispatcher_, [&] { return changes_ == 1; }));
  answers_.erase("flaky.example");
  // Two failed refreshes, at the refresh rate.
  ASSERT_TRUE(event::testing::runUntil(dispatcher_, [&] {
    return metrics().find("weft_dns_queries_total{result=\"failure\"} 2") != std::string::npos;
  })) << metrics();
  ASSERT_NE(cache_.lookup(target), nullptr);
  EXPECT_EQ(*cache_.lookup(target), std::vector<std::string>{"192.0.2.5"});
  EXPECT_EQ(changes_, 1);
}

TEST_F(DnsCacheTest, ANameThatFailedAtFirstIsAskedAgainWithinASecond) {
  // The DNS server was not up yet: the cluster must not wait its 60 s rate.
  DnsTarget target{"late.example", LookupFamily::kAuto, 60000, false};
  EXPECT_EQ(cache_.lookup(target), nullptr);
  ASSERT_TRUE(event::testing::runUntil(dispatcher_, [&] { return asked("late.example") == 1; }));
  answers_["late.example"] = {{"192.0.2.3"}, 0};
  ASSERT_TRUE(event::testing::runUntil(
      dispatcher_, [&] { return changes_ == 1; }, 2500));
  EXPECT_EQ(*cache_.lookup(target), std::vector<std::string>{"192.0.2.3"});
}

TEST_F(DnsCacheTest, NamesNoClusterUsesAreDropped) {
  answers_["old.example"] = {{"192.0.2.1"}, 0};
  answers_["new.example"] = {{"192.0.2.2"}, 0};
  cache_.lookup({"old.example", LookupFamily::kAuto, 100, false});
  ASSERT_TRUE(event::testing::runUntil(dispatcher_, [&] { return changes_ == 1; }));
  cache_.retain({{"new.example", LookupFamily::kAuto, 100, false}});
  EXPECT_EQ(cache_.size(), 1u);
  size_t old_asked = asked("old.example");
  ASSERT_TRUE(event::testing::runUntil(dispatcher_, [&] { return asked("new.example") >= 2; }));
  EXPECT_EQ(asked("old.example"), old_asked);  // no longer refreshed
}

TEST(ApplyFamilyTest, OrdersAndFiltersAsEnvoysLookupFamilies) {
  std::vector<std::string> v4 = {"192.0.2.1"}, v6 = {"2001:db8::1"};
  EXPECT_EQ(applyFamily(LookupFamily::kV4Only, v4, v6), v4);
  EXPECT_EQ(applyFamily(LookupFamily::kV6Only, v4, v6), v6);
  EXPECT_EQ(applyFamily(LookupFamily::kAuto, v4, v6), v6);
  EXPECT_EQ(applyFamily(LookupFamily::kAuto, v4, {}), v4);
  EXPECT_EQ(applyFamily(LookupFamily::kV4Preferred, {}, v6), v6);
  EXPECT_EQ(applyFamily(LookupFamily::kAll, v4, v6),
            (std::vector<std::string>{"192.0.2.1", "2001:db8::1"}));
}

}  // namespace
}  // namespace weft::dns
