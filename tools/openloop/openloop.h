#pragma once

// The open-loop load generator's shared parts: its options, the schedule
// (request i is due at start + i/RATE whatever happened before, so a slow
// response delays the requests queued behind it and their latency counts
// from when they were due: no coordinated omission) and the report.

#include <time.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace weft::openloop {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t, Clock::time_point now);

struct Options {
  std::string host;
  int port = 0;
  double rate = 0;     // requests/s
  double seconds = 0;  // of sending
  int connections = 32;
};

// Requests due, in order; latencies measured from their due times.
struct Schedule {
  Schedule(const Options& o) : rate(o.rate), total(static_cast<uint64_t>(o.rate * o.seconds)) {}
  Clock::time_point due(uint64_t i) const {
    return start + std::chrono::nanoseconds(static_cast<int64_t>(i * 1e9 / rate));
  }
  // How long ppoll may wait: until the next request is due, at most 100 ms
  // (nanoseconds: poll's milliseconds would add up to 1 ms of our own lateness).
  timespec pollTimeout(Clock::time_point now) const;

  double rate;
  uint64_t total;
  Clock::time_point start = Clock::now();
  std::vector<double> latencies_ms;
  // (when it was due, ms after start; its latency, ms): what report() writes
  // to $OPENLOOP_TRACE, to see when the slow ones happened.
  std::vector<std::pair<double, double>> trace;
  uint64_t sent = 0, errors = 0;
  void record(Clock::time_point due, Clock::time_point done) {
    latencies_ms.push_back(msSince(due, done));
    trace.emplace_back(msSince(start, due), latencies_ms.back());
  }
};

// "sent N completed N errors N p50 X p90 X p99 X p99.9 X max X ms"
void report(Schedule& schedule);

// Connects `n` TCP_NODELAY non-blocking sockets; -1 entries on failure (perror'd).
std::vector<int> connectAll(const Options& o);

int runHttp1(const Options& o);
int runHttp2(const Options& o);

}  // namespace weft::openloop
