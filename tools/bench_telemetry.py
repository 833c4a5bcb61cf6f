#!/usr/bin/env python3
"""tools/bench telemetry: what Istio's standard metrics cost per request.

The sidecar pair of tools/bench mtls (wrk -> outbound weft -> mTLS, HTTP/2 ->
inbound weft -> nginx), twice side by side: "plain" without a
traffic_direction (no istio_* metrics, no peer-metadata exchange) and
"istio" with OUTBOUND / INBOUND listeners, workload metadata on each node and
an Istio-named cluster (so both sidecars exchange x-weft-peer-metadata and
record every request under both workloads' labels). Rounds alternate which
pair runs first (the first run on a machine is slower). Prints, per round
and as medians: requests/s at saturation, CPU of both proxies per request at
saturation and at 2,000 req/s (open loop), and the differences the issue's
targets are stated in (throughput %, CPU us per request)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_mtls as pair  # noqa: E402

DURATION = int(sys.argv[1]) if len(sys.argv) > 1 else 10
ROUNDS = 5
BACKEND = 18501
PORTS = {"plain": (18510, 18511, 18590, 18591), "istio": (18520, 18521, 18592, 18593)}
SERVICE_CLUSTER = "outbound|80||reviews.bench.svc.cluster.local"


def node(pod, workload, app, version, account):
    return {"id": pod + ".bench", "metadata": {"WORKLOAD_NAME": workload, "APP": app,
                                                 "VERSION": version,
                                                 "SERVICE_ACCOUNT": account}}


def bootstraps(name, ca, server, client):
    out_port, in_port, admin_out, admin_in = PORTS[name]
    istio = name == "istio"
    inbound = pair.weft_bootstrap(
        admin_in, in_port, BACKEND,
        tls_listener={"require_client_certificate": True, "common_tls_context": {
            "tls_certificates": [{"certificate_chain": {"filename": server[0]},
                                  "private_key": {"filename": server[1]}}],
            "validation_context": {"trusted_ca": {"filename": ca}},
            "alpn_protocols": ["h2", "http/1.1"]}},
        direction="INBOUND" if istio else None,
        node=node("reviews-v1-0", "reviews-v1", "reviews", "v1", "server") if istio else None,
        cluster_name="inbound|8080||")
    outbound = pair.weft_bootstrap(
        admin_out, out_port, in_port,
        tls_cluster={"common_tls_context": {
            "tls_certificates": [{"certificate_chain": {"filename": client[0]},
                                  "private_key": {"filename": client[1]}}],
            "validation_context": {"trusted_ca": {"filename": ca},
                                   "match_typed_subject_alt_names": [
                {"san_type": "URI", "matcher": {"exact": pair.SERVER_ID}}]},
            "alpn_protocols": ["h2"]}}, http2=True,
        direction="OUTBOUND" if istio else None,
        node=node("web-0", "web", "web", "v1", "client") if istio else None,
        cluster_name=SERVICE_CLUSTER)
    return inbound, outbound


def saturation(port, pids):
    before = sum(pair.cpu_seconds(p) for p in pids)
    rps, _, p99, bad = pair.wrk(port)
    cpu = sum(pair.cpu_seconds(p) for p in pids) - before
    return rps, cpu * 1e6 / max(rps * DURATION, 1), p99, bad


def main():
    d = tempfile.mkdtemp(prefix="weft-bench-telemetry-")
    ca, c = pair.certs(d)
    log = open(os.path.join(d, "processes.log"), "w")
    procs = {}
    with open(os.path.join(d, "backend.conf"), "w") as f:
        f.write("worker_processes 1; daemon off; pid %s/backend.pid; error_log %s/backend.err;\n"
                "events { worker_connections 4096; }\n"
                "http { access_log off; keepalive_requests 1000000;\n"
                "  server { listen 127.0.0.1:%d; location / { return 200 \"%s\"; } } }\n"
                % (d, d, BACKEND, pair.BODY))
    procs["backend"] = pair.start(["nginx", "-c", os.path.join(d, "backend.conf"), "-p", d], log)
    binary = pair.WEFT["weft"]
    for name in PORTS:
        for side, config in zip(("in", "out"), bootstraps(name, ca, c["server"], c["client"])):
            path = os.path.join(d, "%s-%s.json" % (name, side))
            open(path, "w").write(config)
            procs["%s-%s" % (name, side)] = pair.start(
                [binary, "-c", path, "--concurrency", "1"], log)
    time.sleep(1.5)
    runs = {name: [] for name in PORTS}  # (rps, CPU us/req at saturation, at RATE) per round
    errors = 0
    try:
        print("telemetry cost: the weft sidecar pair (BoringSSL, mTLS, HTTP/2 between), %d s per "
              "run, %d rounds; CPU is both proxies' (/proc/PID/stat)" % (DURATION, ROUNDS))
        for r in range(ROUNDS):
            order = list(PORTS) if r % 2 == 0 else list(reversed(PORTS))
            for name in order:
                out_port = PORTS[name][0]
                pids = [procs[name + "-out"].pid, procs[name + "-in"].pid]
                pair.wrk(out_port, ["-d2s"])  # warm: connections, series
                rps, cpu_sat, p99, bad = saturation(out_port, pids)
                cpu_rate, _, paced_p99, paced_bad = pair.fixed_rate(out_port, pids)
                errors += bad + paced_bad
                runs[name].append((rps, cpu_sat, cpu_rate))
                print("  round %d %-6s %9.0f req/s (p99 %.2f ms)  CPU %6.1f us/req saturated, "
                      "%6.1f us/req at %d/s (p99 %.2f ms)" % (
                          r + 1, name, rps, p99, cpu_sat, cpu_rate, pair.RATE, paced_p99))
        metrics = subprocess.run(["curl", "-s", "http://127.0.0.1:%d/stats/prometheus"
                                  % PORTS["istio"][3]], capture_output=True, text=True).stdout
        recorded = [l for l in metrics.splitlines()
                    if l.startswith("istio_requests_total{") and 'source_workload="web"' in l]
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()
    # Medians: one slow run (another process, a frequency change) moves a mean by more
    # than the difference measured.
    plain, istio = ([sorted(r[i] for r in runs[n])[len(runs[n]) // 2] for i in range(3)]
                    for n in ("plain", "istio"))
    print("medians of %d rounds: plain %.0f req/s, %.1f / %.1f us/req; istio %.0f req/s, "
          "%.1f / %.1f us/req" % (ROUNDS, *plain, *istio))
    print("istio metrics on vs off: throughput %+.1f%% (target > -3%%), CPU per request %+.2f us "
          "saturated, %+.2f us at %d/s (target < 5 us); errors %d" % (
              (istio[0] - plain[0]) * 100 / plain[0], istio[1] - plain[1], istio[2] - plain[2],
              pair.RATE, errors))
    print("the inbound sidecar recorded: %s" % (recorded[0][:160] + "..." if recorded
                                                 else "NOTHING (istio_* missing!)"))
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
