#!/usr/bin/env python3
"""tools/bench ab OLD NEW [ROUNDS]: two weft-proxy binaries, A/B, on the
HTTP/2-end-to-end sidecar pair of tools/bench mtls (h2c -> outbound -> mTLS
h2 -> inbound -> h2c nginx), their rounds interleaved: 2 s of h2load
saturation and 3 s at 2,000 req/s per binary per round. The machine has slow
phases that hit whatever runs during them, so single runs of two builds do
not compare; interleaved rounds and medians do. Prints each round and the
new/old ratios of the medians (requests/s, CPU per request at saturation and
at 2,000 req/s, p99) and both pairs' RSS.
"""

import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
OLD, NEW = sys.argv[1], sys.argv[2]
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
sys.argv = sys.argv[:1]  # bench_mtls reads its own argv
import bench_mtls as b  # noqa: E402


def start_pair(d, name, binary, ports, admin, ca, certs, log):
    """One weft pair of bench_mtls.h2_pairs, in its own directory."""
    sub = os.path.join(d, name)
    os.mkdir(sub)
    b.WEFT["weft"], b.PAIRS_H2["weft"], b.ADMIN_H2 = binary, ports, admin
    procs = b.h2_pairs(sub, ca, certs["server"], certs["client"], log)
    for pname, proc in procs:
        if not pname.startswith("weft"):
            proc.terminate()  # the HAProxy pair is not compared here
    return [(n, p) for n, p in procs if n.startswith("weft")]


def main():
    d = tempfile.mkdtemp(prefix="weft-bench-ab-")
    ca, certs = b.certs(d)
    log = open(os.path.join(d, "processes.log"), "w")
    with open(os.path.join(d, "backend.conf"), "w") as f:
        f.write("worker_processes 1; daemon off; pid %s/backend.pid; error_log %s/backend.err;\n"
                "events { worker_connections 4096; }\n"
                "http { access_log off; keepalive_requests 1000000;\n"
                "  server { listen 127.0.0.1:%d http2; location / { return 200 \"%s\"; } } }\n"
                % (d, d, b.BACKEND_H2, b.BODY))
    procs = [("backend", b.start(["nginx", "-c", os.path.join(d, "backend.conf"), "-p", d], log))]
    pairs = {}
    for name, binary, ports, admin in (("old", OLD, (18460, 18461), (18494, 18495)),
                                       ("new", NEW, (18480, 18481), (18496, 18497))):
        pair = start_pair(d, name, binary, ports, admin, ca, certs, log)
        pairs[name] = (ports[0], [p.pid for _, p in pair])
        procs += pair
    time.sleep(1.5)
    res = {k: {"req/s": [], "CPU us/req sat": [], "CPU us/req 2000": [], "p99 ms": []}
           for k in pairs}
    b.DURATION = 3
    try:
        for port, _ in pairs.values():
            b.h2load(port, 1)  # warm up
        for _ in range(ROUNDS):
            for name, (port, pids) in pairs.items():
                before, started = sum(b.cpu_seconds(p) for p in pids), time.time()
                rps, _ = b.h2load(port, 2)
                res[name]["req/s"].append(rps)
                res[name]["CPU us/req sat"].append(
                    (sum(b.cpu_seconds(p) for p in pids) - before) * 1e6 /
                    max(rps * (time.time() - started), 1))
            for name, (port, pids) in pairs.items():
                cpu, _, p99, _, _ = b.fixed_rate_h2(port, pids)
                res[name]["CPU us/req 2000"].append(cpu)
                res[name]["p99 ms"].append(p99)
        rss = {name: [b.rss_kb(p) for p in pids] for name, (_, pids) in pairs.items()}
    finally:
        for _, p in procs:
            p.terminate()
        log.close()
    for name, r in res.items():
        print("%s (%s): %s; RSS kB %s" % (name, OLD if name == "old" else NEW, "; ".join(
            "%s median %.1f [%s]" % (k, statistics.median(v), " ".join("%.1f" % x for x in v))
            for k, v in r.items()), "/".join(str(x) for x in rss[name])))
    print("new / old: " + ", ".join(
        "%s %.3f" % (k, statistics.median(res["new"][k]) / max(statistics.median(res["old"][k]), 1e-9))
        for k in res["old"]))


if __name__ == "__main__":
    main()
