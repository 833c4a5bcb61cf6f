"""weft-control driving weft-proxies over xDS: a canary rollout while traffic
flows, invalid configuration (rejected by the control plane, or NACKed by a
proxy) never taking working routes away, the control plane killed and
restarted, endpoints moving, and gRPC's own xDS client (not written here)
consuming weft-control. Everything is real processes on loopback; the
"pods" are distinct 127.x addresses."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from harness import (ROOT, CONTROL_BIN, Backend, ControlPlane, Proxy, fixture, free_port,
                     wait_for, xds_bootstrap)

SERVICES = """
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  clusterIP: 10.96.0.20
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
"""

SLICE = """
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %(name)s-slice
  labels: {kubernetes.io/service-name: %(service)s}
addressType: IPv4
ports: [{name: http, port: %(port)d}]
endpoints:
"""

ENDPOINT = """- addresses: [%(ip)s]
  conditions: {ready: %(ready)s, terminating: %(terminating)s}
  targetRef: {kind: Pod, name: %(pod)s, namespace: default}
"""

ROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo-canary}
spec:
  parentRefs: [{group: "", kind: Service, name: echo, port: 80}]
  rules:
  - backendRefs:
    - {name: echo-v1, port: 80, weight: %(v1)d}
    - {name: echo-v2, port: 80, weight: %(v2)d}
"""


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)  # as editors and config sync tools do


class LoadLoop:
    """Sends requests through the client proxy until stopped (bounded by
    `limit` requests and `seconds`), recording (time, status, body)."""

    def __init__(self, port, limit=200000, seconds=240):
        self.port, self.limit, self.seconds = port, limit, seconds
        self.results = []
        self.errors = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        deadline = time.time() + self.seconds
        conn = None
        while not self.stopped.is_set() and time.time() < deadline and len(self.results) < self.limit:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", "/", headers={"Host": "echo"})
                resp = conn.getresponse()
                body = resp.read()
                self.results.append((time.monotonic(), resp.status, body))
                if resp.status != 200:
                    self.errors.append((resp.status, body[:200]))
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(("exception", repr(e)))
                conn = None

    def since(self, t, count, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            window = [r for r in self.results if r[0] >= t]
            if len(window) >= count:
                return window[:count]
            time.sleep(0.05)
        raise AssertionError("load loop too slow: %d results" % len(window))

    def stop(self):
        self.stopped.set()
        self.thread.join()


class MeshTest(unittest.TestCase):
    """client-0 (outbound) -> echo-v1-0 / echo-v2-0 (inbound sidecars) -> apps."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="weft-mesh-")
        self.config = os.path.join(self.dir, "config")
        os.mkdir(self.config)
        self.port = free_port()
        self.pods = {"echo-v1-0": ("127.0.20.1", "127.0.21.1", "v1"),
                     "echo-v2-0": ("127.0.20.2", "127.0.21.2", "v2")}
        self.write_mesh({"echo-v1": ["echo-v1-0"], "echo-v2": ["echo-v2-0"]})
        self.write_route(100, 0)
        self.control = ControlPlane(self.config)
        self.apps, self.proxies = {}, {}
        for pod in self.pods:
            self.start_pod(pod)
        self.out_port = free_port()
        self.client = self.start_proxy("client-0.default", OUTBOUND_PORT=self.out_port)

    def tearDown(self):
        for p in list(self.proxies.values()) + [self.client]:
            p.stop()
        for a in self.apps.values():
            a.stop()
        self.control.stop()

    def write_mesh(self, slices, terminating=(), starting=()):
        text = SERVICES % {"port": self.port}
        everyone = []

        def endpoint(pod):
            gone = pod in terminating
            return ENDPOINT % {"ip": self.pods[pod][0], "pod": pod,
                               "ready": "false" if gone or pod in starting else "true",
                               "terminating": "true" if gone else "false"}
        for service, pods in slices.items():
            text += SLICE % {"name": service, "service": service, "port": self.port}
            for pod in pods:
                text += endpoint(pod)
                everyone.append(pod)
        text += SLICE % {"name": "echo", "service": "echo", "port": self.port}
        for pod in everyone:
            text += endpoint(pod)
        write(os.path.join(self.config, "mesh.yaml"), text)

    def write_route(self, v1, v2):
        write(os.path.join(self.config, "route.yaml"), ROUTE % {"v1": v1, "v2": v2})

    def start_proxy(self, node_id, **metadata):
        proxy = Proxy(xds_bootstrap(node_id, free_port(), self.control.xds_port, **metadata))
        return proxy.wait_ready()

    def start_pod(self, pod):
        pod_ip, app_ip, version = self.pods[pod]
        self.apps[pod] = Backend(version, host=app_ip, port=self.port)
        self.proxies[pod] = self.start_proxy(pod + ".default", APP_IP=app_ip,
                                             OUTBOUND_PORT=free_port())

    def wait_for(self, predicate, what, timeout=10):
        wait_for(predicate, what, timeout, interval=0.02)

    def wait_inbound(self, pod):
        """Until the pod's sidecar serves its inbound listener."""
        pod_ip = self.pods[pod][0]

        def serving():
            try:
                conn = http.client.HTTPConnection(pod_ip, self.port, timeout=2)
                conn.request("GET", "/")
                return conn.getresponse().status == 200
            except OSError:
                return False
        self.wait_for(serving, "inbound listener of " + pod)

    def test_canary_rollout_while_traffic_flows(self):
        for pod in self.pods:
            self.wait_inbound(pod)
        loop = LoadLoop(self.out_port)
        try:
            for v1, v2 in [(100, 0), (90, 10), (50, 50), (0, 100)]:
                before = self.client.xds_version("routes")
                written = time.monotonic()
                self.write_route(v1, v2)
                if (v1, v2) != (100, 0):
                    self.wait_for(lambda: self.client.xds_version("routes") != before,
                                  "the new route at the client proxy")
                applied = time.monotonic()
                window = loop.since(applied, 3000)
                share_v2 = sum(1 for r in window if r[2] == b"v2") / len(window)
                print("\n  %3d/%-3d: file write -> route applied at the proxy in %4.0f ms; "
                      "observed v2 share %.1f%% over %d requests"
                      % (v1, v2, (applied - written) * 1000, share_v2 * 100, len(window)))
                self.assertAlmostEqual(share_v2, v2 / 100.0, delta=0.03)
        finally:
            loop.stop()
        self.assertEqual(loop.errors, [])
        print("  %d requests, %d failed" % (len(loop.results), len(loop.errors)))
        acked = [line for line in self.control.get("/metrics")[1].splitlines()
                 if line.startswith("weft_control_xds_push_ack_seconds_count")]
        self.assertGreater(float(acked[0].split()[-1]), 0)  # pushes for the 3 edits, ACKed

    def test_invalid_route_keeps_last_good_and_is_reported(self):
        self.write_route(0, 100)
        self.wait_for(lambda: self.route_body() == b"v2", "v2 routing")
        before = self.client.xds_version("routes")
        write(os.path.join(self.config, "route.yaml"),
              (ROUTE % {"v1": 50, "v2": 50}).replace("echo-v2, port", "echo-v3, port"))
        self.wait_for(lambda: "echo-v3" in self.control.get("/debug/config_errors")[1],
                      "the config error")
        errors = self.control.get("/debug/config_errors")[1]
        self.assertIn("route.yaml", errors)
        self.assertIn("spec.rules[0].backendRefs[1].name", errors)
        self.assertIn("keeping its last valid version", errors)
        time.sleep(0.5)
        self.assertEqual(self.client.xds_version("routes"), before)
        for _ in range(50):
            self.assertEqual(self.route_body(), b"v2")

    def test_proxy_nacks_invalid_resource_and_keeps_serving(self):
        self.wait_for(lambda: self.route_body() == b"v1", "v1 routing")
        clusters_before = self.client.xds_version("clusters")
        # weft-control cannot see the proxies' files: a CA bundle that no
        # proxy has is accepted by it and refused by each proxy.
        write(os.path.join(self.config, "policy.yaml"), """
apiVersion: v1
kind: Service
metadata: {name: partner}
spec:
  type: ExternalName
  externalName: localhost
  ports: [{name: https, port: 443}]
---
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: partner}
spec:
  targetRef: {name: partner}
  tls: {mode: SIMPLE, caCertificates: /nonexistent/partner-ca.pem}
""")

        def nacked():
            for proxy in self.control.syncz():
                if proxy["node_id"] == "client-0.default":
                    return proxy["types"].get("CDS", {}).get("status") == "NACKED"
            return False
        self.wait_for(nacked, "the client proxy's NACK")
        dump = self.client.config_dump()["dynamic"]["clusters"]
        self.assertEqual(dump["version"], clusters_before)
        self.assertIn("cannot read '/nonexistent/partner-ca.pem'", dump["last_rejected"]["error"])
        # The policy's status says so, naming a proxy and its error.
        status = json.loads(self.control.get(
            "/debug/statusz?object=DestinationPolicy/default/partner")[1])[0]["status"]
        programmed = status["conditions"][1]
        self.assertEqual((programmed["type"], programmed["status"], programmed["reason"]),
                         ("Programmed", "False", "Nacked"))
        self.assertIn("cannot read '/nonexistent/partner-ca.pem'", programmed["message"])
        for _ in range(50):
            self.assertEqual(self.route_body(), b"v1")
        os.remove(os.path.join(self.config, "policy.yaml"))

        def synced():
            return all(p["types"]["CDS"]["status"] == "SYNCED" for p in self.control.syncz())
        self.wait_for(synced, "every proxy SYNCED again")

    def test_control_plane_killed_and_restarted(self):
        for pod in self.pods:
            self.wait_inbound(pod)
        loop = LoadLoop(self.out_port)
        try:
            time.sleep(0.5)
            self.control.stop(signal.SIGKILL)
            time.sleep(2)  # proxies serve on their last configuration
            served_while_down = len(loop.results)
            self.control.start()
            self.wait_for(lambda: len(self.control.syncz()) == 3, "all proxies reconnected", 30)

            def all_synced():
                return all(t["status"] == "SYNCED" for p in self.control.syncz()
                           for t in p["types"].values())
            self.wait_for(all_synced, "all proxies resynced", 30)
            time.sleep(0.5)
        finally:
            loop.stop()
        self.assertGreater(served_while_down, 100)
        self.assertEqual(loop.errors, [])

    def test_a_control_plane_still_loading_its_config_sends_nothing(self):
        # A new weft-control whose Kubernetes API never answers (the socket
        # listens but never accepts) must not program the proxies that
        # reconnect to it with an empty mesh: they keep their configuration.
        for pod in self.pods:
            self.wait_inbound(pod)
        hung_api = socket.socket()
        hung_api.bind(("127.0.0.1", 0))
        hung_api.listen(16)
        kubeconfig = os.path.join(self.dir, "kubeconfig")
        write(kubeconfig, """apiVersion: v1
kind: Config
current-context: hung
contexts: [{name: hung, context: {cluster: hung, user: weft}}]
clusters: [{name: hung, cluster: {server: "https://127.0.0.1:%d", insecure-skip-tls-verify: true}}]
users: [{name: weft, user: {token: t}}]
""" % hung_api.getsockname()[1])
        loop = LoadLoop(self.out_port)
        loading = None
        try:
            self.control.stop(signal.SIGKILL)
            admin_port = free_port()
            log = open(os.path.join(self.dir, "loading-control.log"), "w")
            loading = subprocess.Popen(
                [CONTROL_BIN, "--kubeconfig", kubeconfig, "--xds-address",
                 "127.0.0.1:%d" % self.control.xds_port, "--admin-port", str(admin_port)],
                stdout=log, stderr=subprocess.STDOUT)

            def admin(path):
                try:
                    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (admin_port, path),
                                                timeout=5) as resp:
                        return resp.status, resp.read().decode()
                except urllib.error.HTTPError as e:
                    return e.code, e.read().decode()
                except OSError:
                    return 0, ""

            def reconnected():
                status, body = admin("/debug/syncz")
                return status == 200 and len(json.loads(body)) == 3
            self.wait_for(reconnected, "the proxies connected to the loading control plane", 30)
            time.sleep(1.0)
            syncz = json.loads(admin("/debug/syncz")[1])
            ready_status = admin("/ready")[0]
        finally:
            loop.stop()
            if loading is not None:
                loading.kill()
                loading.wait(10)
            hung_api.close()
        self.assertGreater(len(loop.results), 100)
        self.assertEqual(loop.errors[:5], [])
        self.assertEqual([p["types"] for p in syncz], [{}, {}, {}])
        self.assertEqual(ready_status, 503)

    def test_endpoints_move_without_failed_requests(self):
        for pod in self.pods:
            self.wait_inbound(pod)
        loop = LoadLoop(self.out_port)
        try:
            # echo-v1 moves to a new pod, as a rolling update does it: the new
            # pod is listed not-ready while it starts (its sidecar already
            # serves inbound), then ready; the old one turns terminating
            # (listed, not ready) while it drains, and then leaves.
            self.pods["echo-v1-1"] = ("127.0.20.3", "127.0.21.3", "v1b")
            self.start_pod("echo-v1-1")
            both = {"echo-v1": ["echo-v1-0", "echo-v1-1"], "echo-v2": ["echo-v2-0"]}
            self.write_mesh(both, starting={"echo-v1-1"})
            self.wait_inbound("echo-v1-1")
            self.write_mesh(both)
            # The ready new pod is in rotation before the old one turns
            # terminating (else the version read below could be the one
            # before this write, and the wait would end on this write).
            self.wait_for(lambda: any(r[2] == b"v1b" for r in loop.results[-200:]),
                          "the new pod in rotation")
            before = self.client.xds_version("endpoints")
            self.write_mesh(both, terminating={"echo-v1-0"})
            self.wait_for(lambda: self.client.xds_version("endpoints") != before, "EDS update")
            moved = time.monotonic()
            window = loop.since(moved, 500)
            self.assertEqual({r[2] for r in window}, {b"v1b"})
            self.write_mesh({"echo-v1": ["echo-v1-1"], "echo-v2": ["echo-v2-0"]})
            time.sleep(0.5)
        finally:
            loop.stop()
        self.assertEqual(loop.errors, [])

    def test_weftctl_check_proxy_status_config_dump(self):
        weftctl = os.path.join(ROOT, "bazel-bin/tools/weftctl/weftctl")
        out = subprocess.run([weftctl, "check", self.config], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stdout)
        bad = tempfile.mkdtemp(prefix="weft-check-")
        write(os.path.join(bad, "route.yaml"), ROUTE % {"v1": -5, "v2": 10})
        out = subprocess.run([weftctl, "check", bad], capture_output=True, text=True)
        self.assertEqual(out.returncode, 1)
        self.assertIn("route.yaml (document 1): HTTPRoute default/echo-canary: "
                      "spec.rules[0].backendRefs[0].weight: must be within 0..1000000 (got -5)",
                      out.stdout)

        def all_synced():
            return len(self.control.syncz()) == 3 and all(
                t["status"] == "SYNCED" for p in self.control.syncz() for t in p["types"].values())
        self.wait_for(all_synced, "every proxy SYNCED")
        out = subprocess.run([weftctl, "proxy-status", "--control",
                              "127.0.0.1:%d" % self.control.admin_port],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        lines = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines()[1:]}
        self.assertEqual(lines["client-0.default"],
                         ["sotw", "SYNCED", "SYNCED", "SYNCED", "SYNCED", "-"])  # no CA: no SDS
        out = subprocess.run([weftctl, "config-dump", "127.0.0.1:%d" % self.client.admin_port],
                             capture_output=True, text=True)
        self.assertIn('"routes"', out.stdout)
        # By pod name: the control plane knows each proxy's admin address.
        out = subprocess.run([weftctl, "config-dump", "client-0", "--control",
                              "127.0.0.1:%d" % self.control.admin_port],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('"OUTBOUND_PORT"', out.stdout)

    def route_body(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.out_port, timeout=5)
        conn.request("GET", "/", headers={"Host": "echo"})
        return conn.getresponse().read()


GRPC_CONFIG = """
apiVersion: v1
kind: Service
metadata: {name: greeter}
spec:
  ports: [{name: grpc, port: 50051, appProtocol: grpc}]
---
apiVersion: v1
kind: Service
metadata: {name: greeter-a}
spec:
  ports: [{name: grpc, port: 50051, appProtocol: grpc}]
---
apiVersion: v1
kind: Service
metadata: {name: greeter-b}
spec:
  ports: [{name: grpc, port: 50051, appProtocol: grpc}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: greeter-a-1, labels: {kubernetes.io/service-name: greeter-a}}
addressType: IPv4
ports: [{name: grpc, port: %(a)d}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: greeter-b-1, labels: {kubernetes.io/service-name: greeter-b}}
addressType: IPv4
ports: [{name: grpc, port: %(b)d}]
endpoints: [{addresses: [127.0.0.1]}]
"""

GRPC_HTTPROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: greeter-split}
spec:
  parentRefs: [{kind: Service, group: "", name: greeter}]
  rules:
  - backendRefs:
    - {name: greeter-a, port: 50051, weight: 80}
    - {name: greeter-b, port: 50051, weight: 20}
"""

# The same split as a GRPCRoute, and calls with x-split: 1 all to greeter-b.
GRPC_GRPCROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: greeter-split}
spec:
  parentRefs: [{kind: Service, group: "", name: greeter}]
  rules:
  - matches:
    - method: {service: weft.test.Echo, method: Unary}
      headers: [{name: x-split, value: "1"}]
    backendRefs: [{name: greeter-b, port: 50051}]
  - matches: [{method: {service: weft.test.Echo}}]
    backendRefs:
    - {name: greeter-a, port: 50051, weight: 80}
    - {name: greeter-b, port: 50051, weight: 20}
"""


class XdsProtocolTest(unittest.TestCase):
    """State-of-the-world and delta ADS with many simulated proxies
    (tools/xds_load): all sync, and all receive and ACK one route edit."""

    def test_sotw_and_delta_streams_receive_an_edit(self):
        d = tempfile.mkdtemp(prefix="weft-xds-load-")
        config = os.path.join(d, "config")
        os.mkdir(config)
        write(os.path.join(config, "mesh.yaml"), fixture("canary/mesh.yaml", port=8080))
        route = os.path.join(config, "route.yaml")
        write(route, fixture("canary/route.yaml", v1=90, v2=10))
        control = ControlPlane(config)
        try:
            for i, mode in enumerate(["sotw", "delta"]):
                new = os.path.join(d, "new-%d.yaml" % i)
                write(new, fixture("canary/route.yaml", v1=50 - i, v2=50 + i))
                out = subprocess.run(
                    [os.path.join(ROOT, "bazel-bin/tools/xds_load/xds_load"), "--target",
                     "127.0.0.1:%d" % control.xds_port, "--proxies", "50", "--edit", route,
                     "--content", new] + (["--delta"] if mode == "delta" else []),
                    capture_output=True, text=True, timeout=120)
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
                self.assertIn("all 50 streams received and ACKed it", out.stdout)
        finally:
            control.stop()


class GrpcXdsInteropTest(unittest.TestCase):
    """gRPC's own xDS client (Debian's libgrpc, not weft code) resolves
    xds:///greeter through weft-control and honours the 80/20 split, written
    as an HTTPRoute and as a GRPCRoute (with a method + header match)."""

    def test_grpc_xds_client_observes_httproute_split(self):
        counts = self.run_client(GRPC_HTTPROUTE, [("--count", "5000")])[0]
        self.assert_share(counts, 5000, "HTTPRoute")

    def test_grpc_xds_client_observes_grpcroute_split_and_header_match(self):
        split, header = self.run_client(GRPC_GRPCROUTE, [("--count", "5000"),
                                                         ("--count", "200", "--split", "1")])
        self.assert_share(split, 5000, "GRPCRoute")
        self.assertEqual(header, {"ok greeter-b": 200})

    def assert_share(self, counts, n, kind):
        self.assertEqual(sum(counts.values()), n, counts)
        share_a = counts.get("ok greeter-a", 0) / n
        print("\n  gRPC xDS client, %s: greeter-a %.1f%% (target 80%%), greeter-b %.1f%%"
              % (kind, share_a * 100, counts.get("ok greeter-b", 0) * 100 / n))
        self.assertAlmostEqual(share_a, 0.80, delta=0.03, msg=counts)

    def run_client(self, route, runs):
        """Outcome counts of echo_client runs (one per args in `runs`) on xds:///greeter."""
        grpc_dir = os.path.join(ROOT, "bazel-bin/e2e/grpc")
        d = tempfile.mkdtemp(prefix="weft-grpc-xds-")
        config = os.path.join(d, "config")
        os.mkdir(config)
        ports = {"a": free_port(), "b": free_port()}
        write(os.path.join(config, "grpc.yaml"), GRPC_CONFIG % ports)
        write(os.path.join(config, "route.yaml"), route)
        servers = [subprocess.Popen([os.path.join(grpc_dir, "echo_server"), "--port",
                                     str(ports[n]), "--name", "greeter-" + n],
                                    stdout=subprocess.PIPE) for n in ("a", "b")]
        for s in servers:
            s.stdout.readline()
        control = ControlPlane(config)
        try:
            bootstrap = os.path.join(d, "grpc-bootstrap.json")
            with open(bootstrap, "w") as f:
                f.write('{"xds_servers": [{"server_uri": "127.0.0.1:%d", "channel_creds": '
                        '[{"type": "insecure"}], "server_features": ["xds_v3"]}], '
                        '"node": {"id": "grpc-client.default"}}' % control.xds_port)
            results = []
            for args in runs:
                out = subprocess.run([os.path.join(grpc_dir, "echo_client"), "--target",
                                      "xds:///greeter", *args],
                                     capture_output=True, text=True, timeout=120,
                                     env=dict(os.environ, GRPC_XDS_BOOTSTRAP=bootstrap))
                counts = {}
                for line in out.stdout.strip().splitlines():
                    n, outcome = line.split(" ", 1)
                    counts[outcome] = int(n)
                results.append(counts)
            return results
        finally:
            control.stop()
            for s in servers:
                s.kill()
                s.wait()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
