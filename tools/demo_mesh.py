#!/usr/bin/env python3
"""The local mesh demo: weft-control (config source, xDS and the mesh CA), a
weft-proxy per workload with its own CA-issued SPIFFE certificate, STRICT
mutual TLS between sidecars, two versions of a service, and a canary shifted
90/10 -> 50/50 -> 0/100 by rewriting the HTTPRoute file, with the split
observed at each step and each version's success rate and p99 as a real
Prometheus reports them (the canary's app fails one request in ten); JSON
access logs on the sidecars' stdout; one request's trace as the sidecars
exported it to an OTLP collector. Run by tools/demo."""

import collections
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

from harness import (ROOT, Backend, ControlPlane, Proxy, fixture, free_port, wait_for,  # noqa: E402
                     xds_bootstrap)
from otlp import OtlpCollector  # noqa: E402
from prometheus import Prometheus  # noqa: E402

WEFTCTL = os.path.join(ROOT, "bazel-bin/tools/weftctl/weftctl")


def prometheus_view(prometheus, window="5s"):
    """`weftctl stat` of both versions, from Prometheus: {workload: (success, p99)}."""
    view = {}
    for workload in ("echo-v1", "echo-v2"):
        out = subprocess.run([WEFTCTL, "stat", "workload/" + workload, "--window", window,
                              "--prometheus", "127.0.0.1:%d" % prometheus.port],
                             capture_output=True, text=True).stdout
        for line in out.splitlines()[2:]:
            fields = line.split()
            if len(fields) == 5 and fields[0] == workload:
                view[workload] = (fields[1], fields[4])
    return view

def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def measure(port, n=1000):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    counts = collections.Counter()
    for _ in range(n):
        conn.request("GET", "/", headers={"Host": "echo"})
        resp = conn.getresponse()
        body = resp.read().decode()  # read whatever the status: the connection is reused
        counts[body if resp.status == 200 else "HTTP %d" % resp.status] += 1
    return counts


def plaintext_refused(ip, port):
    """A request without TLS to a meshed inbound port gets no answer."""
    try:
        with socket.create_connection((ip, port), timeout=3) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n")
            return not s.recv(65536).startswith(b"HTTP/1.1 200")
    except OSError:
        return True


def print_a_trace(collector):
    """The last complete trace at the collector: the client sidecar's span and its child."""
    by_trace = collections.defaultdict(list)
    for span in collector.wait_for_spans(2):
        by_trace[span["trace_id"]].append(span)
    trace_id, spans = [(t, s) for t, s in by_trace.items() if len(s) == 2][-1]
    print("\ntracing: %d spans at the OTLP/HTTP collector (127.0.0.1:%d); trace %s:"
          % (len(collector.spans()), collector.http_port, trace_id))
    for span in sorted(spans, key=lambda s: int(s["start_ns"])):
        indent = "  " if span["parent_span_id"] == "" or span["kind"] == "SPAN_KIND_CLIENT" \
            else "    \u2514 "
        print("%s%-15s %-6s %s  %.2f ms  status %s  span %s (parent %s)" % (
            indent, span["resource"]["service.name"], span["kind"][len("SPAN_KIND_"):],
            span["name"], (int(span["end_ns"]) - int(span["start_ns"])) / 1e6,
            span["attributes"]["http.status_code"], span["span_id"],
            span["parent_span_id"] or "none"))


def main():
    work = tempfile.mkdtemp(prefix="weft-demo-")
    config = os.path.join(work, "config")
    os.mkdir(config)
    data = os.path.join(work, "ca")
    tokens = os.path.join(work, "workload-tokens")
    pods = [("echo-v1-0", "echo"), ("echo-v2-0", "echo"), ("client-0", "client")]
    with open(tokens, "w") as f:  # what a projected service-account token proves in a cluster
        for pod, sa in pods:
            f.write("token-%s default %s\n" % (pod, sa))
    ca_port = free_port()

    def sidecar(pod, sa, **metadata):
        token_file = os.path.join(work, pod + ".token")
        with open(token_file, "w") as f:
            f.write("token-%s\n" % pod)
        return Proxy(xds_bootstrap(pod + ".default", free_port(), control.xds_port,
                                   SERVICE_ACCOUNT=sa, **metadata),
                     extra_args=["--ca-address", "127.0.0.1:%d" % ca_port,
                                 "--ca-root-cert", os.path.join(data, "ca.pem"),
                                 "--ca-token-file", token_file]).wait_ready()
    port = free_port()
    collector = OtlpCollector()
    # The canary mesh, with a JSON access-log line per request on each sidecar's
    # stdout, and 10% of requests traced to the OTLP collector.
    write(os.path.join(config, "mesh.yaml"), fixture("canary/mesh.yaml", port=port).replace(
        "  mtls: {mode: STRICT}\n", "  mtls: {mode: STRICT}\n  accessLog: {mode: JSON}\n"
        "  tracing: {collector: \"http://127.0.0.1:%d/v1/traces\", samplingPercent: 10}\n"
        % collector.http_port, 1))
    write(os.path.join(config, "route.yaml"), fixture("canary/route.yaml", v1=90, v2=10))
    print("config directory: %s (edit route.yaml to shift traffic)" % config)

    control = ControlPlane(config, extra_args=[
        "--ca-address", "127.0.0.1:%d" % ca_port, "--data-dir", data, "--workload-tokens", tokens])
    print("weft-control: xDS on 127.0.0.1:%d, mesh CA on 127.0.0.1:%d (root in %s), admin on "
          "127.0.0.1:%d" % (control.xds_port, ca_port, data, control.admin_port))
    stop = [collector, control]
    try:
        for pod, version, pod_ip, app_ip in [("echo-v1-0", "v1", "127.0.30.1", "127.0.31.1"),
                                             ("echo-v2-0", "v2", "127.0.30.2", "127.0.31.2")]:
            app = Backend(version, host=app_ip, port=port)
            if version == "v2":
                app.server.fail_one_in = 10  # the canary's bug: one request in ten fails
            stop.append(app)
            stop.append(sidecar(pod, "echo", APP_IP=app_ip, OUTBOUND_PORT=free_port(),
                                WORKLOAD_NAME="echo-" + version, APP="echo", VERSION=version))
            print("pod %s: app %s on %s:%d, sidecar inbound (mTLS) on %s:%d, identity "
                  "spiffe://cluster.local/ns/default/sa/echo" % (pod, version, app_ip, port, pod_ip,
                                                                 port))
        out_port = free_port()
        client = sidecar("client-0", "client", OUTBOUND_PORT=out_port, WORKLOAD_NAME="client",
                         APP="client")
        stop.append(client)
        print("pod client-0: sidecar outbound on 127.0.0.1:%d (requests carry Host: echo), "
              "identity spiffe://cluster.local/ns/default/sa/client" % out_port)
        sidecars = [s for s in stop if isinstance(s, Proxy)]
        prometheus = Prometheus({"sidecars": ("/stats/prometheus", [
            "127.0.0.1:%d" % s.admin_port for s in sidecars])})
        stop.append(prometheus)
        print("prometheus: http://127.0.0.1:%d scrapes the three sidecars every second "
              "(Istio's standard metrics)" % prometheus.port)
        build = re.search(r'weft_build_info\{tls_library="([^"]*)"',
                          client.admin("/stats/prometheus")[1])
        print("the sidecars' TLS library: %s" % (build.group(1) if build else "unknown"))
        time.sleep(0.5)
        conn = http.client.HTTPConnection("127.0.0.1", out_port, timeout=10)
        conn.request("GET", "/headers", headers={"Host": "echo"})
        xfcc = json.loads(conn.getresponse().read())["x-forwarded-client-cert"]
        print("\nSTRICT mTLS: the echo app sees its caller in x-forwarded-client-cert:\n  " + xfcc)
        print("a plaintext request straight to the meshed inbound port 127.0.30.1:%d: %s\n"
              % (port, "refused" if plaintext_refused("127.0.30.1", port) else "ANSWERED (bug)"))
        # Every series exists before the first step (rate() needs two samples of each).
        wait_for(prometheus.targets_up, "prometheus to scrape the sidecars", timeout=20)
        measure(out_port, 200)
        time.sleep(2.5)
        measure(out_port, 200)
        time.sleep(2.5)
        for v1, v2 in [(90, 10), (50, 50), (0, 100)]:
            before = client.xds_version("routes")
            written = time.monotonic()
            write(os.path.join(config, "route.yaml"), fixture("canary/route.yaml", v1=v1, v2=v2))
            if (v1, v2) != (90, 10):
                while client.xds_version("routes") == before:
                    time.sleep(0.01)
            applied_ms = (time.monotonic() - written) * 1000
            counts = measure(out_port)
            total = sum(counts.values())
            shown = "  ".join("%s %5.1f%%" % (k, 100.0 * v / total) for k, v in sorted(counts.items()))
            print("HTTPRoute %3d/%-3d -> observed over %d requests: %s   (applied in %.0f ms)"
                  % (v1, v2, total, shown, applied_ms))
            time.sleep(2.5)  # two scrapes
            view = prometheus_view(prometheus)
            print("    Prometheus, last 5 s: " + "   ".join(
                "%s success %s p99 %s ms" % (w, *view[w]) for w in sorted(view)))
        status = subprocess.run([os.path.join(ROOT, "bazel-bin/tools/weftctl/weftctl"),
                                 "proxy-status", "--control", "127.0.0.1:%d" % control.admin_port],
                                capture_output=True, text=True)
        print("\nweftctl proxy-status:\n" + status.stdout)
        # Whether the mesh took the canary route, and how many sidecars have ACKed it.
        route = subprocess.run([os.path.join(ROOT, "bazel-bin/tools/weftctl/weftctl"), "status",
                                "httproute/echo-canary", "--control",
                                "127.0.0.1:%d" % control.admin_port],
                               capture_output=True, text=True)
        print("weftctl status httproute/echo-canary:\n" + route.stdout)
        with open(sidecars[1].log_path) as f:
            line = [l for l in f if l.startswith("{")][-1].strip()
        print("access log (JSON, one line per request, on each sidecar's stdout; echo-v2's in %s):"
              "\n  %s" % (sidecars[1].log_path, line))
        print_a_trace(collector)
    finally:
        for s in reversed(stop):
            s.stop()


if __name__ == "__main__":
    main()
