#include "proxy/intercept/iptables_rules.h"

#include <gtest/gtest.h>

namespace weft::intercept {
namespace {

TEST(IptablesRulesTest, ProxyUidReturnsBeforeTheRedirect) {
  InterceptionConfig config;
  config.proxy_uid = 2000;
  config.exclude_outbound_cidrs = {"10.0.0.0/8", "fd00::/8"};
  std::string v4 = iptablesRestoreInput(config, false);
  size_t uid = v4.find("-A WEFT_OUTPUT -m owner --uid-owner 2000 -j RETURN");
  size_t redirect = v4.find("-A WEFT_OUTPUT -j WEFT_REDIRECT");
  ASSERT_NE(uid, std::string::npos);
  ASSERT_NE(redirect, std::string::npos);
  EXPECT_LT(uid, redirect);
  EXPECT_NE(v4.find("-d 10.0.0.0/8 -j RETURN"), std::string::npos);
  EXPECT_EQ(v4.find("fd00::/8"), std::string::npos);
  std::string v6 = iptablesRestoreInput(config, true);
  EXPECT_NE(v6.find("-d fd00::/8 -j RETURN"), std::string::npos);
  EXPECT_NE(v6.find("-d ::1/128 -j RETURN"), std::string::npos);
  EXPECT_EQ(v6.find("10.0.0.0/8"), std::string::npos);
}

TEST(IptablesRulesTest, ArgumentsAndTheirErrors) {
  const char* good[] = {
      "weft-proxy", "init",     "--outbound-port", "16001", "--exclude-inbound-ports",
      "22,15020",   "--dry-run"};
  InterceptionConfig config;
  bool dry_run = false;
  std::string restore, error;
  ASSERT_TRUE(parseInitArgs(7, const_cast<char**>(good), 2, &config, &dry_run, &restore, &error))
      << error;
  EXPECT_TRUE(dry_run);
  EXPECT_EQ(config.outbound_port, 16001);
  EXPECT_EQ(config.exclude_inbound_ports, (std::vector<uint16_t>{22, 15020}));
  const char* bad_port[] = {"weft-proxy", "init", "--exclude-outbound-ports", "22,http"};
  EXPECT_FALSE(
      parseInitArgs(4, const_cast<char**>(bad_port), 2, &config, &dry_run, &restore, &error));
  EXPECT_EQ(error, "--exclude-outbound-ports '22,http' is not a comma-separated list of ports");
  const char* missing[] = {"weft-proxy", "init", "--proxy-uid"};
  EXPECT_FALSE(
      parseInitArgs(3, const_cast<char**>(missing), 2, &config, &dry_run, &restore, &error));
  EXPECT_EQ(error, "--proxy-uid needs a value");
}

}  // namespace
}  // namespace weft::intercept
