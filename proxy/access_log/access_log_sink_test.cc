#include "proxy/access_log/access_log_sink.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace weft::access_log {
namespace {

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string tempPath() {
  char path[] = "/tmp/weft-access-log-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  unlink(path);
  return path;
}

TEST(AccessLogSinkTest, LinesFromManyThreadsArriveWholeAndTheSameFileIsShared) {
  std::string path = tempPath();
  {
    AccessLogSinks sinks(nullptr, 4 << 20, 5);
    std::string error;
    auto a = sinks.open(path, &error);
    auto b = sinks.open(path, &error);
    ASSERT_NE(a, nullptr) << error;
    EXPECT_EQ(a, b);  // a push naming the same path gets the same sink
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 1000; ++i) a->write("worker " + std::to_string(t) + " line\n");
      });
    }
    for (auto& thread : threads) thread.join();
  }  // the destructor flushes what is left
  std::istringstream lines(readAll(path));
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    ASSERT_EQ(line.rfind("worker ", 0), 0u) << line;
    ASSERT_EQ(line.substr(line.size() - 5), " line");
  }
  EXPECT_EQ(count, 4000);
  unlink(path.c_str());
}

TEST(AccessLogSinkTest, AFullBufferDropsAndCounts) {
  std::string path = tempPath();
  prometheus::Counter dropped;
  {
    // A flush interval far longer than the test: nothing drains the buffer.
    AccessLogSinks sinks([&](const std::string&) { return &dropped; }, 100, 600000);
    std::string error;
    auto sink = sinks.open(path, &error);
    ASSERT_NE(sink, nullptr);
    for (int i = 0; i < 20; ++i) sink->write("0123456789\n");  // 11 bytes each
    EXPECT_EQ(dropped.Value(), 11);                            // 9 fit in 100 bytes
  }
  EXPECT_EQ(readAll(path).size(), 99u);
  unlink(path.c_str());
}

TEST(AccessLogSinkTest, AnUnwritablePathIsAnError) {
  AccessLogSinks sinks(nullptr);
  std::string error;
  EXPECT_EQ(sinks.open("/nonexistent-dir/access.log", &error), nullptr);
  EXPECT_NE(error.find("cannot open '/nonexistent-dir/access.log'"), std::string::npos) << error;
}

}  // namespace
}  // namespace weft::access_log
