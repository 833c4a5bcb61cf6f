#include "common/base/base64.h"

#include <gtest/gtest.h>

namespace weft::common {
namespace {

TEST(Base64, RoundTripsEveryPaddingLength) {
  for (std::string data : {std::string(""), std::string("a"), std::string("ab"), std::string("abc"),
                           std::string("\0\xff\x10x", 4)}) {
    auto back = base64Decode(base64Encode(data));
    ASSERT_TRUE(back.has_value()) << data;
    EXPECT_EQ(*back, data);
  }
  EXPECT_EQ(base64Encode("ab"), "YWI=");
  EXPECT_EQ(*base64Decode("YWI="), "ab");
}

TEST(Base64, RefusesWhatIsNotBase64) {
  EXPECT_FALSE(base64Decode("YWI").has_value());   // not a multiple of 4
  EXPECT_FALSE(base64Decode("Y*I=").has_value());  // not the alphabet
}

}  // namespace
}  // namespace weft::common
