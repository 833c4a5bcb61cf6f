#!/usr/bin/env python3
"""tools/bench mtls: the sidecar pair.

    wrk -> outbound proxy -> mTLS -> inbound proxy -> backend (nginx)

built five times with the same certificates (ECDSA P-256 from tools/certgen,
TLS 1.3, client certificates required and verified): weft-proxy on BoringSSL
(the default build), weft-proxy on OpenSSL 3, HAProxy twice (HTTP/1.1 and
HTTP/2 between the sidecars), nginx. One worker/thread per proxy; proxies and
backend share CPU 0, the load generator runs on CPU 1. Prints, per pair:
requests/s with p50/p99 at maximum load, p50/p99 at a fixed moderate rate,
each proxy's RSS (outbound/inbound),
new mTLS connections per second against the inbound proxy (each completing
its handshake and one request) with the inbound proxy's CPU per connection,
and the ratios to weft.

Then HTTP/2 end to end, where gRPC meshes live (weft-control makes every
meshed hop HTTP/2):

    h2load / openloop --h2 -> outbound (h2c) -> mTLS h2 -> inbound -> h2c backend (nginx)

weft against HAProxy set up the same way: saturation with h2load (-c8 -m8),
then a fixed 2,000 req/s open loop over 8 connections with many streams each
(p50/p99/p99.9 from the intended send times), CPU per request of both
proxies, their RSS; in rounds (WEFT_BENCH_ROUNDS, default 3) in which the two
pairs take turns, reported as medians and medians of per-round ratios. Absolute figures drift between runs on shared machines:
read the ratios.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CERTGEN = os.path.join(ROOT, "bazel-bin/tools/certgen/certgen")
# The two builds of weft-proxy (third_party/tls.bzl), each as its own pair.
WEFT = {"weft": os.path.join(ROOT, "bazel-bin/proxy/weft-proxy-boringssl"),
        "weft-openssl": os.path.join(ROOT, "bazel-bin/proxy/weft-proxy-openssl")}
OPENLOOP = os.path.join(ROOT, "bazel-bin/tools/openloop/openloop")
RATE = 2000  # requests/s: DESIGN.md's "fixed, moderate rate"
DURATION = int(sys.argv[1]) if len(sys.argv) > 1 else 10
# weft as weft-control configures a meshed HTTP port: HTTP/2 between the
# sidecars. HAProxy runs both ways (its server line can speak h2 too); nginx
# cannot proxy to an HTTP/2 upstream.
H2_BETWEEN = os.environ.get("WEFT_BENCH_H1") != "1"
CONNECTIONS = 50
BACKEND = 18401
BACKEND_H2 = 18402  # the same app over h2c
# HTTP/2 end to end: (outbound, inbound) ports; weft's admin ports.
PAIRS_H2 = {"weft": (18460, 18461), "haproxy": (18470, 18471)}
ADMIN_H2 = (18494, 18495)
H2_CONNECTIONS, H2_STREAMS = 8, 8  # h2load -c8 -m8; openloop --h2 over 8 connections
ADMIN = {"weft": (18490, 18491), "weft-openssl": (18492, 18493)}  # (outbound, inbound)
PAIRS = {"weft": (18410, 18411), "weft-openssl": (18450, 18451), "haproxy": (18420, 18421),
         "haproxy-h2": (18440, 18441), "nginx": (18430, 18431)}
SERVER_ID = "spiffe://cluster.local/ns/bench/sa/server"
CLIENT_ID = "spiffe://cluster.local/ns/bench/sa/client"
BODY = "0123456789" * 6 + "0123"

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
UP_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
DOWN_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"


def weft_bootstrap(admin, listen, upstream, tls_listener=None, tls_cluster=None, http2=False,
                   direction=None, node=None, cluster_name="up"):
    """`direction` (INBOUND / OUTBOUND) turns on Istio's metrics for the
    listener, `node` ({"id": ..., "metadata": ...}) says who the workload is."""
    chain = {"filters": [{"name": "envoy.filters.network.http_connection_manager",
                          "typed_config": {"@type": HCM, "stat_prefix": "l",
                                           "route_config": {"virtual_hosts": [{
                                               "name": "all", "domains": ["*"],
                                               "routes": [{"match": {"prefix": "/"},
                                                           "route": {"cluster": cluster_name}}]}]},
                                           "http_filters": [{"name": "envoy.filters.http.router",
                                                             "typed_config": {"@type": ROUTER}}]}}]}
    if tls_listener:
        chain["transport_socket"] = {"name": "envoy.transport_sockets.tls",
                                     "typed_config": dict(tls_listener, **{"@type": DOWN_TLS})}
    cluster = {"name": cluster_name, "type": "STATIC", "connect_timeout": "1s",
               "load_assignment": {"cluster_name": cluster_name, "endpoints": [{"lb_endpoints": [{
                   "endpoint": {"address": {"socket_address": {
                       "address": "127.0.0.1", "port_value": upstream}}}}]}]}}
    if http2:
        key = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
        cluster["typed_extension_protocol_options"] = {key: {
            "@type": "type.googleapis.com/" + key,
            "explicit_http_config": {"http2_protocol_options": {}}}}
    if tls_cluster:
        cluster["transport_socket"] = {"name": "envoy.transport_sockets.tls",
                                       "typed_config": dict(tls_cluster, **{"@type": UP_TLS})}
    import json
    listener = {"name": "l", "address": {"socket_address": {
        "address": "127.0.0.1", "port_value": listen}}, "filter_chains": [chain]}
    if direction:
        listener["traffic_direction"] = direction
    bootstrap = {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin}}},
        "static_resources": {"listeners": [listener], "clusters": [cluster]}}
    if node:
        bootstrap["node"] = node
    return json.dumps(bootstrap)


def certs(d):
    ca = (os.path.join(d, "ca.pem"), os.path.join(d, "ca.key"))
    subprocess.run([CERTGEN, "root", "--cert", ca[0], "--key", ca[1]], check=True)
    out = {}
    for name, uri in (("server", SERVER_ID), ("client", CLIENT_ID)):
        cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
        subprocess.run([CERTGEN, "issue", "--ca-cert", ca[0], "--ca-key", ca[1], "--cert", cert,
                        "--key", key, "--uri", uri, "--ip", "127.0.0.1", "--dns", "bench-" + name],
                       check=True)
        with open(os.path.join(d, name + "-combined.pem"), "w") as f:  # HAProxy's crt
            f.write(open(cert).read() + open(key).read())
        out[name] = (cert, key, os.path.join(d, name + "-combined.pem"))
    return ca[0], out


def server_tls(server, ca):
    """The inbound sidecar's DownstreamTlsContext: its certificate, client certificates required."""
    return {"require_client_certificate": True, "common_tls_context": {
        "tls_certificates": [{"certificate_chain": {"filename": server[0]},
                              "private_key": {"filename": server[1]}}],
        "validation_context": {"trusted_ca": {"filename": ca}},
        "alpn_protocols": ["h2", "http/1.1"]}}


def client_tls(client, ca, alpn):
    """The outbound sidecar's UpstreamTlsContext: its certificate, the server's SPIFFE ID checked."""
    return {"common_tls_context": {
        "tls_certificates": [{"certificate_chain": {"filename": client[0]},
                              "private_key": {"filename": client[1]}}],
        "validation_context": {"trusted_ca": {"filename": ca},
                               "match_typed_subject_alt_names": [
            {"san_type": "URI", "matcher": {"exact": SERVER_ID}}]},
        "alpn_protocols": [alpn]}}


def start(cmd, log, env=None):
    return subprocess.Popen(["taskset", "-c", "0", *cmd], stdout=log, stderr=subprocess.STDOUT,
                            env=env)


def rss_kb(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def wrk(port, extra=()):
    args = ["taskset", "-c", "1", "wrk", "-t1", "-c%d" % CONNECTIONS, "-d%ds" % DURATION,
            "--latency", *extra]
    out = subprocess.run(args + ["http://127.0.0.1:%d/" % port], capture_output=True,
                         text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        m = re.search(r"\s%s\s+([\d.]+)(us|ms|s)\b" % label, out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, ms("50%"), ms("99%"), int(errors.group(1)) if errors else 0


def cpu_seconds(pid):
    """utime + stime so far (/proc/PID/stat) of a process and its children
    (nginx's workers), in seconds."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def fixed_rate(port, pids):
    """Open loop at RATE: latency from each request's intended send time, and
    the CPU both proxies spent per request."""
    before = sum(cpu_seconds(p) for p in pids)
    out = subprocess.run(["taskset", "-c", "1", OPENLOOP, "127.0.0.1", str(port), str(RATE),
                          str(DURATION), "32"], capture_output=True, text=True).stdout
    cpu = sum(cpu_seconds(p) for p in pids) - before
    m = re.search(r"completed (\d+) errors (\d+) p50 ([\d.]+) p90 [\d.]+ p99 ([\d.]+)", out)
    done = int(m.group(1))
    return cpu * 1e6 / max(done, 1), float(m.group(3)), float(m.group(4)), int(m.group(2))


def handshakes(port, ca, client, pid, seconds=5):
    """New mTLS connections one after the other, each carrying one request
    (`-www /`): the answer proves the server finished the handshake, client
    certificate verified. Without it the count is of client-side handshakes
    only: a TLS 1.3 client is done before the server has read its
    certificate, and a server that sent session tickets the client never
    read gets a RST that discards that last flight unread (so it never
    verifies it). Returns (per second, wall clock; the server's CPU ms per one)."""
    before = cpu_seconds(pid)
    out = subprocess.run(
        ["taskset", "-c", "1", "openssl", "s_time", "-connect", "127.0.0.1:%d" % port, "-new",
         "-www", "/", "-cert", client[0], "-key", client[1], "-CAfile", ca, "-time", str(seconds)],
        capture_output=True, text=True).stdout
    cpu = cpu_seconds(pid) - before
    m = re.search(r"(\d+) connections in (\d+) real seconds", out)
    if not m or int(m.group(1)) == 0:
        return 0.0, 0.0
    return int(m.group(1)) / float(m.group(2)), cpu * 1000 / int(m.group(1))


def h2_pairs(d, ca, server, client, log):
    """The HTTP/2-end-to-end pairs: weft (BoringSSL) and HAProxy, h2c in
    front, h2 over mTLS between, h2c to the app."""
    procs = []
    out_port, in_port = PAIRS_H2["weft"]
    inbound, outbound = (os.path.join(d, "weft-h2e-%s.json" % side) for side in ("in", "out"))
    open(inbound, "w").write(weft_bootstrap(ADMIN_H2[1], in_port, BACKEND_H2, http2=True,
                                            tls_listener=server_tls(server, ca)))
    open(outbound, "w").write(weft_bootstrap(ADMIN_H2[0], out_port, in_port, http2=True,
                                             tls_cluster=client_tls(client, ca, "h2")))
    # WEFT_BENCH_PRELOAD: an allocator to try under weft (LD_PRELOAD), for comparisons.
    env = dict(os.environ)
    if os.environ.get("WEFT_BENCH_PRELOAD"):
        env["LD_PRELOAD"] = os.environ["WEFT_BENCH_PRELOAD"]
    procs.append(("weft-h2e-in", start([WEFT["weft"], "-c", inbound, "--concurrency", "1"], log,
                                      env)))
    procs.append(("weft-h2e-out", start([WEFT["weft"], "-c", outbound, "--concurrency", "1"], log,
                                       env)))
    out_port, in_port = PAIRS_H2["haproxy"]
    common = ("global\n  nbthread 1\n"
              "defaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n"
              "  timeout server 60s\n  http-reuse always\n")
    open(os.path.join(d, "haproxy-h2e-in.cfg"), "w").write(
        common + "frontend fe\n  bind 127.0.0.1:%d ssl crt %s ca-file %s verify required "
        "alpn h2 ssl-min-ver TLSv1.2\n  default_backend be\n"
        "backend be\n  server app 127.0.0.1:%d proto h2\n" % (in_port, server[2], ca, BACKEND_H2))
    open(os.path.join(d, "haproxy-h2e-out.cfg"), "w").write(
        common + "frontend fe\n  bind 127.0.0.1:%d proto h2\n  default_backend be\n"
        "backend be\n  server in 127.0.0.1:%d ssl crt %s ca-file %s verify required "
        "alpn h2\n" % (out_port, in_port, client[2], ca))
    for side in ("in", "out"):
        procs.append(("haproxy-h2e-" + side, start(
            ["haproxy", "-db", "-f", os.path.join(d, "haproxy-h2e-%s.cfg" % side)], log)))
    return procs


def h2load(port, seconds):
    """Saturation over HTTP/2 (h2c): requests/s and failures."""
    out = subprocess.run(["taskset", "-c", "1", "h2load", "-c%d" % H2_CONNECTIONS,
                          "-m%d" % H2_STREAMS, "-D", str(seconds),
                          "http://127.0.0.1:%d/" % port], capture_output=True, text=True).stdout
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
    m = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored", out)
    return rps, int(m.group(2)) + int(m.group(3))


def fixed_rate_h2(port, pids, seconds=None):
    """openloop --h2 at RATE: (CPU us/request of both proxies, p50, p99, p99.9, errors)."""
    before = sum(cpu_seconds(p) for p in pids)
    out = subprocess.run(["taskset", "-c", "1", OPENLOOP, "127.0.0.1", str(port), str(RATE),
                          str(seconds or DURATION), str(H2_CONNECTIONS), "--h2"],
                         capture_output=True, text=True).stdout
    cpu = sum(cpu_seconds(p) for p in pids) - before
    m = re.search(r"completed (\d+) errors (\d+) p50 ([\d.]+) p90 [\d.]+ p99 ([\d.]+) "
                  r"p99.9 ([\d.]+)", out)
    done = int(m.group(1))
    return (cpu * 1e6 / max(done, 1), float(m.group(3)), float(m.group(4)), float(m.group(5)),
            int(m.group(2)))


def syscalls_per_request(port, pids, seconds=3):
    """System calls of both proxies per request at RATE, and the wake-ups
    (epoll_wait) among them: (calls per request, wake-ups per request).
    Counted by the kernel's tracepoints (perf stat), which cost the proxies
    next to nothing: strace's own slowness would batch events that do not
    batch at full speed, and change what it counts."""
    events = "raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait"
    counter = subprocess.Popen(["perf", "stat", "-x", ",", "-e", events, "-p",
                                ",".join(str(p) for p in pids)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    out = subprocess.run(["taskset", "-c", "1", OPENLOOP, "127.0.0.1", str(port), str(RATE),
                          str(seconds), str(H2_CONNECTIONS), "--h2"],
                         capture_output=True, text=True).stdout
    counter.send_signal(2)  # SIGINT: perf prints its counts
    counts = {}
    for line in counter.communicate(timeout=10)[1].splitlines():
        f = line.split(",")
        if len(f) > 2 and f[0].isdigit():
            counts[f[2]] = int(f[0])
    done = int(re.search(r"completed (\d+)", out).group(1))
    wakeups = (counts.get("syscalls:sys_enter_epoll_wait", 0) +
               counts.get("syscalls:sys_enter_epoll_pwait", 0))
    return counts.get("raw_syscalls:sys_enter", 0) / max(done, 1), wakeups / max(done, 1)


H2_ROUNDS = int(os.environ.get("WEFT_BENCH_ROUNDS", "3"))


def run_h2(pids):
    """The HTTP/2-end-to-end rows: name -> (req/s, errors, CPU us/req at RATE, p50, p99,
    p99.9, errors at RATE, (RSS out, RSS in) kB, CPU us/req at saturation, syscalls and
    wake-ups per request), medians over H2_ROUNDS rounds in which the pairs take turns
    (the machine has slow phases that would otherwise fall on one pair), plus, under
    "ratios", the median over rounds of each round's weft/HAProxy ratio."""
    sides = {name: [pids[name + "-h2e-out"], pids[name + "-h2e-in"]] for name in PAIRS_H2}
    rounds = {name: [] for name in PAIRS_H2}
    seconds = max(2, DURATION // H2_ROUNDS)
    for name, (out_port, _) in PAIRS_H2.items():
        h2load(out_port, 2)  # warm up
    for _ in range(H2_ROUNDS):
        for name, (out_port, _) in PAIRS_H2.items():
            side = sides[name]
            before, started = sum(cpu_seconds(p) for p in side), time.time()
            rps, bad = h2load(out_port, seconds)
            sat_cpu = (sum(cpu_seconds(p) for p in side) - before) * 1e6 / max(
                rps * (time.time() - started), 1)
            rounds[name].append([rps, bad, sat_cpu])
        for name, (out_port, _) in PAIRS_H2.items():
            rounds[name][-1] += list(fixed_rate_h2(out_port, sides[name], seconds))
    results = {}
    for name, (out_port, _) in PAIRS_H2.items():
        med = [statistics.median(r[k] for r in rounds[name]) for k in range(8)]
        rps, bad, sat_cpu, cpu_us, p50, p99, p999, paced_bad = med
        side = sides[name]
        calls, wakeups = syscalls_per_request(out_port, side)
        results[name] = (rps, bad, cpu_us, p50, p99, p999, paced_bad,
                         (rss_kb(side[0]), rss_kb(side[1])), sat_cpu, calls, wakeups)
    # Per-round ratios: both pairs saw the same phase of the machine.
    w, h = rounds["weft"], rounds["haproxy"]
    results["ratios"] = {key: statistics.median(w[r][k] / max(h[r][k], 1e-9)
                                                for r in range(H2_ROUNDS))
                         for key, k in (("rps", 0), ("sat_cpu", 2), ("cpu", 3), ("p50", 4),
                                        ("p99", 5), ("p999", 6))}
    return results


def print_h2(results):
    print("\nHTTP/2 end to end: h2c client -> outbound -> mTLS h2 -> inbound -> h2c nginx; "
          "saturation h2load -c%d -m%d; fixed rate %d req/s open loop over %d connections "
          "(openloop --h2: each request a new stream when due)"
          % (H2_CONNECTIONS, H2_STREAMS, RATE, H2_CONNECTIONS))
    print("%-10s %10s %12s | %12s %8s %8s %8s | %13s | %15s | %s" % (
        "pair", "max req/s", "CPU us/req", "CPU us/req", "p50 ms", "p99 ms", "p99.9 ms",
        "RSS MB out/in", "syscalls/wakeups", "errors"))
    for name, r in results.items():
        if name == "ratios":
            continue
        print("%-10s %10.0f %12.1f | %12.1f %8.2f %8.2f %8.2f | %6.1f/%-6.1f | %7.1f/%-7.1f | %d" % (
            name, r[0], r[8], r[2], r[3], r[4], r[5], r[7][0] / 1024.0, r[7][1] / 1024.0,
            r[9], r[10], r[1] + r[6]))
    print("(syscalls/wakeups: system calls and epoll_wait calls of both proxies per request at "
          "%d req/s, counted by the kernel's tracepoints)" % RATE)
    w, h, q = results["weft"], results["haproxy"], results["ratios"]
    print("(medians of %d rounds in which the pairs take turns; ratios are medians of each "
          "round's ratio)" % H2_ROUNDS)
    print("weft / haproxy (HTTP/2 end to end): throughput %.2fx, CPU per request at saturation "
          "%.2fx, at %d/s %.2fx, p50 %.2fx, p99 %.2fx, p99.9 %.2fx, RSS %.2fx, syscalls per "
          "request %.2fx" % (
              q["rps"], q["sat_cpu"], RATE, q["cpu"], q["p50"], q["p99"], q["p999"],
              sum(w[7]) / max(sum(h[7]), 1), w[9] / max(h[9], 0.01)))


def main():
    d = tempfile.mkdtemp(prefix="weft-bench-mtls-")
    ca, c = certs(d)
    server, client = c["server"], c["client"]
    log = open(os.path.join(d, "processes.log"), "w")
    procs = []
    with open(os.path.join(d, "backend.conf"), "w") as f:
        f.write("worker_processes 1; daemon off; pid %s/backend.pid; error_log %s/backend.err;\n"
                "events { worker_connections 4096; }\n"
                "http { access_log off; keepalive_requests 1000000;\n"
                "  server { listen 127.0.0.1:%d; location / { return 200 \"%s\"; } }\n"
                "  server { listen 127.0.0.1:%d http2; location / { return 200 \"%s\"; } } }\n"
                % (d, d, BACKEND, BODY, BACKEND_H2, BODY))
    procs.append(("backend", start(["nginx", "-c", os.path.join(d, "backend.conf"), "-p", d], log)))

    for name, binary in WEFT.items():
        out_port, in_port = PAIRS[name]
        admin_out, admin_in = ADMIN[name]
        inbound, outbound = (os.path.join(d, "%s-%s.json" % (name, side)) for side in ("in", "out"))
        open(inbound, "w").write(weft_bootstrap(admin_in, in_port, BACKEND,
                                                tls_listener=server_tls(server, ca)))
        open(outbound, "w").write(weft_bootstrap(
            admin_out, out_port, in_port, http2=H2_BETWEEN,
            tls_cluster=client_tls(client, ca, "h2" if H2_BETWEEN else "http/1.1")))
        procs.append((name + "-in", start([binary, "-c", inbound, "--concurrency", "1"], log)))
        procs.append((name + "-out", start([binary, "-c", outbound, "--concurrency", "1"], log)))

    common = ("global\n  nbthread 1\n  tune.ssl.default-dh-param 2048\n"
              "defaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n"
              "  timeout server 60s\n  http-reuse always\n")
    for name, alpn in (("haproxy", "http/1.1"), ("haproxy-h2", "h2")):
        out_port, in_port = PAIRS[name]
        open(os.path.join(d, name + "-in.cfg"), "w").write(
            common + "frontend fe\n  bind 127.0.0.1:%d ssl crt %s ca-file %s verify required "
            "alpn h2,http/1.1 ssl-min-ver TLSv1.2\n  default_backend be\n"
            "backend be\n  server app 127.0.0.1:%d\n" % (in_port, server[2], ca, BACKEND))
        open(os.path.join(d, name + "-out.cfg"), "w").write(
            common + "frontend fe\n  bind 127.0.0.1:%d\n  default_backend be\n"
            "backend be\n  server in 127.0.0.1:%d ssl crt %s ca-file %s verify required "
            "alpn %s\n" % (out_port, in_port, client[2], ca, alpn))
        for side in ("in", "out"):
            procs.append(("%s-%s" % (name, side), start(
                ["haproxy", "-db", "-f", os.path.join(d, "%s-%s.cfg" % (name, side))], log)))

    out_port, in_port = PAIRS["nginx"]
    for side, conf in (
            ("in", "server { listen 127.0.0.1:%d ssl; ssl_certificate %s; ssl_certificate_key %s;\n"
                   "  ssl_client_certificate %s; ssl_verify_client on; ssl_protocols TLSv1.2 TLSv1.3;\n"
                   "  location / { proxy_pass http://app; proxy_http_version 1.1;\n"
                   "    proxy_set_header Connection \"\"; } }\n"
                   "upstream app { server 127.0.0.1:%d; keepalive 64; }\n"
                   % (in_port, server[0], server[1], ca, BACKEND)),
            ("out", "server { listen 127.0.0.1:%d;\n"
                    "  location / { proxy_pass https://in; proxy_http_version 1.1;\n"
                    "    proxy_set_header Connection \"\"; proxy_ssl_certificate %s;\n"
                    "    proxy_ssl_certificate_key %s; proxy_ssl_trusted_certificate %s;\n"
                    "    proxy_ssl_verify on; proxy_ssl_name bench-server; proxy_ssl_session_reuse on; } }\n"
                    "upstream in { server 127.0.0.1:%d; keepalive 64; }\n"
                    % (out_port, client[0], client[1], ca, in_port))):
        path = os.path.join(d, "nginx-%s.conf" % side)
        with open(path, "w") as f:
            f.write("worker_processes 1; daemon off; pid %s/nginx-%s.pid; error_log %s/nginx-%s.err;\n"
                    "events { worker_connections 4096; }\n"
                    "http { access_log off; keepalive_requests 1000000;\n%s}\n"
                    % (d, side, d, side, conf))
        procs.append(("nginx-" + side, start(["nginx", "-c", path, "-p", d], log)))

    procs += h2_pairs(d, ca, server, client, log)

    time.sleep(1.5)
    pids = {name: p.pid for name, p in procs}
    results = {}
    # WEFT_BENCH_ONLY=h2: the HTTP/2-end-to-end case alone (while working on it).
    only_h2 = os.environ.get("WEFT_BENCH_ONLY") == "h2"
    try:
        for name, (out_port, in_port) in ({} if only_h2 else PAIRS).items():
            wrk(out_port, ["-d2s"])  # warm up: connections, sessions
            rps, p50, p99, bad = wrk(out_port)
            cpu_us, paced_p50, paced_p99, paced_bad = fixed_rate(
                out_port, [pids[name + "-out"], pids[name + "-in"]])
            hs, hs_cpu_ms = handshakes(in_port, ca, client, pids[name + "-in"])
            rss = (rss_kb(pids[name + "-out"]), rss_kb(pids[name + "-in"]))
            results[name] = (rps, p50, p99, cpu_us, paced_p50, paced_p99, rss, hs,
                             bad + paced_bad, hs_cpu_ms)
        h2_results = run_h2(pids)
    finally:
        for _, p in procs:
            p.terminate()
        for _, p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()
    print("\nsidecar pair: wrk -> outbound -> mTLS (TLS 1.3, P-256, client certs) -> inbound -> "
          "nginx backend; %d s, %d connections, 1 worker per proxy; between the sidecars: weft %s, "
          "haproxy HTTP/1.1, haproxy-h2 HTTP/2, nginx HTTP/1.1; weft is weft-proxy on BoringSSL "
          "(the default build), weft-openssl the same sources on OpenSSL 3"
          % (DURATION, CONNECTIONS, "HTTP/2" if H2_BETWEEN else "HTTP/1.1"))
    print("max load: wrk -c%d; fixed rate: %d req/s open loop (latency from the intended send "
          "time), CPU of both proxies per request from /proc/PID/stat" % (CONNECTIONS, RATE))
    print("%-12s %10s %8s %8s | %13s %8s %8s | %13s | %12s %16s | %s" % (
        "pair", "max req/s", "p50 ms", "p99 ms", "CPU us/req", "p50 ms", "p99 ms",
        "RSS MB out/in", "handshakes/s", "server CPU ms/hs", "errors"))
    for name, r in results.items():
        print("%-12s %10.0f %8.2f %8.2f | %13.1f %8.2f %8.2f | %6.1f/%-6.1f | %12.0f %16.2f | %d" % (
            name, r[0], r[1], r[2], r[3], r[4], r[5], r[6][0] / 1024.0, r[6][1] / 1024.0, r[7],
            r[9], r[8]))
    w = results.get("weft")
    for other in ("weft-openssl", "haproxy", "haproxy-h2", "nginx") if w else ():
        o = results[other]
        print("weft / %-10s: throughput %.2fx, p99 at max load %.2fx, CPU per request at %d/s "
              "%.2fx, p99 there %.2fx, RSS %.2fx, handshakes/s %.2fx, server CPU per handshake "
              "%.2fx" % (
                  other, w[0] / o[0], w[2] / o[2], RATE, w[3] / max(o[3], 0.01), w[5] / max(o[5], 0.001), sum(w[6]) / sum(o[6]),
                  w[7] / max(o[7], 1), w[9] / max(o[9], 0.001)))
    print_h2(h2_results)
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
