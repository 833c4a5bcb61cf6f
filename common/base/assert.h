#pragma once

// True invariants only: traffic from the network never reaches these.

#include <cstdio>
#include <cstdlib>

#define WEFT_ASSERT(cond)                                                                         \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      std::fprintf(stderr, "weft: invariant violated at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)
