#!/usr/bin/env python3
"""The local mesh demo: weft-control, a weft-proxy per workload, two versions
of a service, and a canary shifted 90/10 -> 50/50 -> 0/100 by rewriting the
HTTPRoute file, with the split observed at each step. Run by tools/demo."""

import collections
import http.client
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

from harness import ROOT, Backend, ControlPlane, Proxy, free_port, xds_bootstrap  # noqa: E402

MESH = """apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  ports: [{name: http, port: 80, targetPort: %(port)d}]
---
apiVersion: v1
kind: Service
metadata: {name: echo-v1}
spec:
  ports: [{name: http, port: 80, targetPort: %(port)d}]
---
apiVersion: v1
kind: Service
metadata: {name: echo-v2}
spec:
  ports: [{name: http, port: 80, targetPort: %(port)d}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: echo-v1-abc, labels: {kubernetes.io/service-name: echo-v1}}
addressType: IPv4
ports: [{name: http, port: %(port)d}]
endpoints: [{addresses: [127.0.30.1], targetRef: {kind: Pod, name: echo-v1-0}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: echo-v2-abc, labels: {kubernetes.io/service-name: echo-v2}}
addressType: IPv4
ports: [{name: http, port: %(port)d}]
endpoints: [{addresses: [127.0.30.2], targetRef: {kind: Pod, name: echo-v2-0}}]
"""

ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo-canary}
spec:
  parentRefs: [{group: "", kind: Service, name: echo, port: 80}]
  rules:
  - backendRefs:
    - {name: echo-v1, port: 80, weight: %d}
    - {name: echo-v2, port: 80, weight: %d}
"""


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


def main():
    work = tempfile.mkdtemp(prefix="weft-demo-")
    config = os.path.join(work, "config")
    os.mkdir(config)
    port = free_port()
    write(os.path.join(config, "mesh.yaml"), MESH % {"port": port})
    write(os.path.join(config, "route.yaml"), ROUTE % (90, 10))
    print("config directory: %s (edit route.yaml to shift traffic)" % config)

    control = ControlPlane(config)
    print("weft-control: xDS on 127.0.0.1:%d, admin on 127.0.0.1:%d"
          % (control.xds_port, control.admin_port))
    stop = [control]
    try:
        for pod, version, pod_ip, app_ip in [("echo-v1-0", "v1", "127.0.30.1", "127.0.31.1"),
                                             ("echo-v2-0", "v2", "127.0.30.2", "127.0.31.2")]:
            stop.append(Backend(version, host=app_ip, port=port))
            stop.append(Proxy(xds_bootstrap(pod + ".default", free_port(), control.xds_port,
                                            APP_IP=app_ip, OUTBOUND_PORT=free_port()))
                        .wait_ready())
            print("pod %s: app %s on %s:%d, sidecar inbound on %s:%d"
                  % (pod, version, app_ip, port, pod_ip, port))
        out_port = free_port()
        client = Proxy(xds_bootstrap("client-0.default", free_port(), control.xds_port,
                                     OUTBOUND_PORT=out_port)).wait_ready()
        stop.append(client)
        print("pod client-0: sidecar outbound on 127.0.0.1:%d (requests carry Host: echo)"
              % out_port)
        time.sleep(0.5)
        for v1, v2 in [(90, 10), (50, 50), (0, 100)]:
            before = client.xds_version("routes")
            written = time.monotonic()
            write(os.path.join(config, "route.yaml"), ROUTE % (v1, v2))
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
