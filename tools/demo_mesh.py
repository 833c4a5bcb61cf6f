#!/usr/bin/env python3
"""The local mesh demo: weft-control (config source, xDS and the mesh CA), a
weft-proxy per workload with its own CA-issued SPIFFE certificate, STRICT
mutual TLS between sidecars, two versions of a service, and a canary shifted
90/10 -> 50/50 -> 0/100 by rewriting the HTTPRoute file, with the split
observed at each step. Run by tools/demo."""

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

from harness import ROOT, Backend, ControlPlane, Proxy, fixture, free_port, xds_bootstrap  # noqa: E402

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
        counts[resp.read().decode() if resp.status == 200 else "HTTP %d" % resp.status] += 1
    return counts


def plaintext_refused(ip, port):
    """A request without TLS to a meshed inbound port gets no answer."""
    try:
        with socket.create_connection((ip, port), timeout=3) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n")
            return not s.recv(65536).startswith(b"HTTP/1.1 200")
    except OSError:
        return True


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
    write(os.path.join(config, "mesh.yaml"), fixture("canary/mesh.yaml", port=port))
    write(os.path.join(config, "route.yaml"), fixture("canary/route.yaml", v1=90, v2=10))
    print("config directory: %s (edit route.yaml to shift traffic)" % config)

    control = ControlPlane(config, extra_args=[
        "--ca-address", "127.0.0.1:%d" % ca_port, "--data-dir", data, "--workload-tokens", tokens])
    print("weft-control: xDS on 127.0.0.1:%d, mesh CA on 127.0.0.1:%d (root in %s), admin on "
          "127.0.0.1:%d" % (control.xds_port, ca_port, data, control.admin_port))
    stop = [control]
    try:
        for pod, version, pod_ip, app_ip in [("echo-v1-0", "v1", "127.0.30.1", "127.0.31.1"),
                                             ("echo-v2-0", "v2", "127.0.30.2", "127.0.31.2")]:
            stop.append(Backend(version, host=app_ip, port=port))
            stop.append(sidecar(pod, "echo", APP_IP=app_ip, OUTBOUND_PORT=free_port()))
            print("pod %s: app %s on %s:%d, sidecar inbound (mTLS) on %s:%d, identity "
                  "spiffe://cluster.local/ns/default/sa/echo" % (pod, version, app_ip, port, pod_ip,
                                                                 port))
        out_port = free_port()
        client = sidecar("client-0", "client", OUTBOUND_PORT=out_port)
        stop.append(client)
        print("pod client-0: sidecar outbound on 127.0.0.1:%d (requests carry Host: echo), "
              "identity spiffe://cluster.local/ns/default/sa/client" % out_port)
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
        status = subprocess.run([os.path.join(ROOT, "bazel-bin/tools/weftctl/weftctl"),
                                 "proxy-status", "--control", "127.0.0.1:%d" % control.admin_port],
                                capture_output=True, text=True)
        print("\nweftctl proxy-status:\n" + status.stdout)
    finally:
        for s in reversed(stop):
            s.stop()


if __name__ == "__main__":
    main()
