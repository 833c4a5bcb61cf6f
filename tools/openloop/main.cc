// openloop HOST PORT RATE SECONDS [CONNECTIONS] [--h2]
//
// Sends GET / at a fixed RATE (requests/s) for SECONDS over CONNECTIONS
// connections (default 32): HTTP/1.1 keep-alive, one request at a time per
// connection, or with --h2 HTTP/2 with prior knowledge, each request a new
// stream the moment it is due. Request i is due at start + i/RATE whatever
// happened before (open loop): latency counts from when it was due, not
// from when it could be sent (no coordinated omission, unlike wrk).
// Prints: sent, completed, errors, p50/p90/p99/p99.9/max ms.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tools/openloop/openloop.h"

int main(int argc, char** argv) {
  weft::openloop::Options o;
  bool h2 = false;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--h2") {
      h2 = true;
      continue;
    }
    switch (positional++) {
      case 0:
        o.host = arg;
        break;
      case 1:
        o.port = std::atoi(arg.c_str());
        break;
      case 2:
        o.rate = std::atof(arg.c_str());
        break;
      case 3:
        o.seconds = std::atof(arg.c_str());
        break;
      case 4:
        o.connections = std::atoi(arg.c_str());
        break;
      default:
        positional = -100;
    }
  }
  if (positional < 4 || o.rate <= 0 || o.connections <= 0) {
    std::fprintf(stderr, "usage: openloop HOST PORT RATE SECONDS [CONNECTIONS] [--h2]\n");
    return 2;
  }
  return h2 ? weft::openloop::runHttp2(o) : weft::openloop::runHttp1(o);
}
