#pragma once

// glibc's allocator, tuned for a proxy: a stream allocates and frees the same
// few sizes thousands of times a second, and glibc's per-thread cache keeps
// only 7 free chunks a size, so a worker with dozens of streams in flight
// spills into the slower shared bins (17% of a worker's CPU at saturation
// was malloc/free). glibc reads its tunables only as a process starts, so
// the proxy re-executes itself once with glibc.malloc.tcache_count raised,
// keeping any tunables the environment already sets. Measured on the HTTP/2
// sidecar pair: 9% less CPU per request at saturation, RSS unchanged.

namespace weft::server {

// Returns when the tunables are in place (or cannot be: exec failed);
// otherwise the process image is replaced and this never returns.
void tuneMallocOrReexec(char** argv);

}  // namespace weft::server
