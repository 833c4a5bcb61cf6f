#include "proxy/workload/peer_exchange.h"

#include <gtest/gtest.h>

namespace weft::workload {
namespace {

TEST(PeerExchangeTest, AFrameComesOffTheFrontByteByByte) {
  std::string wire = encodePeerFrame("w=web,n=default") + "220 ready\r\n";
  std::string buffer, metadata;
  size_t fed = 0;
  PeerFrame result = PeerFrame::kIncomplete;
  while (result == PeerFrame::kIncomplete && fed < wire.size()) {
    buffer.push_back(wire[fed++]);
    result = takePeerFrame(buffer, &metadata);
  }
  ASSERT_EQ(result, PeerFrame::kComplete);
  EXPECT_EQ(metadata, "w=web,n=default");
  EXPECT_EQ(buffer, "");  // the frame's last byte completed it
  EXPECT_EQ(wire.substr(fed), "220 ready\r\n");
}

TEST(PeerExchangeTest, WhatFollowsTheFrameStays) {
  std::string buffer = encodePeerFrame("") + "hello";
  std::string metadata = "x";
  ASSERT_EQ(takePeerFrame(buffer, &metadata), PeerFrame::kComplete);
  EXPECT_EQ(metadata, "");
  EXPECT_EQ(buffer, "hello");
}

TEST(PeerExchangeTest, AnythingElseIsInvalid) {
  std::string metadata;
  for (std::string bad : {std::string("GET / HTTP/1.1\r\n"), std::string("WPX2"),
                          std::string("WPX1\x10\x01", 6)}) {  // 4097 bytes: over the bound
    EXPECT_EQ(takePeerFrame(bad, &metadata), PeerFrame::kInvalid) << bad;
  }
  std::string partial = "WP";
  EXPECT_EQ(takePeerFrame(partial, &metadata), PeerFrame::kIncomplete);
}

}  // namespace
}  // namespace weft::workload
