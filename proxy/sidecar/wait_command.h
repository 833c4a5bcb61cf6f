#pragma once

// `weft-proxy wait --port P [--host H] [--timeout-s N]`: returns once the
// proxy's /ready answers 200. The injector runs it as the proxy container's
// postStart hook when native sidecars are off, so the kubelet starts the
// application containers only after the proxy is ready (the hook blocks them).

namespace weft::sidecar {

// argv[first] is the first argument after "wait". Returns the exit code.
int runWait(int argc, char** argv, int first);

}  // namespace weft::sidecar
