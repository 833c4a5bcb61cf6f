"""The injected pod, whole, in network namespaces the test creates: each
"pod" gets the rules of the real `weft-proxy init` and a `weft-proxy sidecar`
(UID 1337) configured only by the variables the injector sets; weft-control
(in a third namespace, as in its own pod) generates the interception
listeners for them and signs their certificates. The apps know nothing of
the mesh: they call Service IPs that exist nowhere, and get there over mTLS.
Skipped, with the reason printed, only where network namespaces are forbidden."""

import json
import os
import subprocess
import time
import unittest

import yaml

from harness import ROOT, WEFTCTL_BIN, metric_sum
from mesh_pods import MeshPods
from netns import UID

POD_A, POD_B, CONTROL = "10.78.0.1", "10.78.0.2", "10.78.0.3"
ECHO_IP, BANNER_IP, SMTP_IP, WEB_IP = "10.96.1.10", "10.96.1.11", "10.96.1.12", "10.96.1.13"
BACKEND = os.path.join(ROOT, "e2e", "backend.py")
GRPC_SERVER = os.path.join(ROOT, "bazel-bin/e2e/grpc/echo_server")
TRUST = "spiffe://cluster.local/ns/shop/sa/"

MESH = """
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: shop}
spec:
  clusterIP: %(echo)s
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: echo-x1
  namespace: shop
  labels: {kubernetes.io/service-name: echo}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
- addresses: [%(b)s]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: echo-0, namespace: shop}
---
apiVersion: v1
kind: Service
metadata: {name: banner, namespace: shop}
spec:
  clusterIP: %(banner)s
  ports: [{name: tcp-banner, port: 9000, targetPort: 9000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: banner-x1
  namespace: shop
  labels: {kubernetes.io/service-name: banner}
addressType: IPv4
ports: [{name: tcp-banner, port: 9000}]
endpoints:
- addresses: [%(b)s]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: echo-0, namespace: shop}
---
# Ports with no name and no appProtocol: the sidecars detect the protocol.
apiVersion: v1
kind: Service
metadata: {name: smtp, namespace: shop}
spec:
  clusterIP: %(smtp)s
  ports: [{port: 25, targetPort: 9100}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: smtp-x1
  namespace: shop
  labels: {kubernetes.io/service-name: smtp}
addressType: IPv4
ports: [{port: 9100}]
endpoints:
- addresses: [%(b)s]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: echo-0, namespace: shop}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: %(web)s
  ports: [{port: 80, targetPort: 8180}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-x1
  namespace: shop
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{port: 8180}]
endpoints:
- addresses: [%(b)s]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: echo-0, namespace: shop}
---
apiVersion: weft.dev/v1alpha1
kind: MeshConfig
metadata: {name: mesh, namespace: weft-system}
spec:
  mtls: {mode: STRICT}
"""


# Pod B as its Deployment declares it: probes on the app's ports, which
# `weftctl inject` (the webhook's mutation) moves to the sidecar's status port.
ECHO_POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "echo-0", "namespace": "shop"},
    "spec": {"serviceAccountName": "echo", "containers": [
        {"name": "echo", "image": "echo", "ports": [{"name": "http", "containerPort": 8080}],
         "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"},
                            "timeoutSeconds": 2},
         "livenessProbe": {"tcpSocket": {"port": 9000}}},
        {"name": "cart", "image": "cart", "readinessProbe": {"grpc": {"port": 50051}}},
        {"name": "idle", "image": "idle", "livenessProbe": {"tcpSocket": {"port": 7999}}},
    ]},
}


def injected_pod(pod):
    out = subprocess.run([WEFTCTL_BIN, "inject", "-f", "-"], input=json.dumps(pod),
                         capture_output=True, text=True, timeout=20)
    if out.returncode != 0:
        raise AssertionError("weftctl inject: " + out.stderr)
    return yaml.safe_load(out.stdout)


def proxy_env(pod):
    for container in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]:
        if container["name"] == "weft-proxy":
            return {e["name"]: e["value"] for e in container["env"] if "value" in e}
    raise AssertionError("no weft-proxy container in the injected pod")


def tcp_banner(host, port):
    """Python run in a pod: connect, print the first line received."""
    return ("import socket; s = socket.create_connection(('%s', %d), timeout=5); "
            "print(s.recv(64).decode().strip())" % (host, port))


class PodMeshTest(MeshPods):
    prefix = "weft-pod-mesh-"

    @classmethod
    def setUpClass(cls):
        pid = os.getpid()
        cls.ns_a, cls.ns_b, cls.ns_c = ("weft-pa-%d" % pid, "weft-pb-%d" % pid,
                                        "weft-pc-%d" % pid)
        cls.start(cls.ns_a)
        try:
            cls.connect_pods(cls.ns_c, CONTROL, [(cls.ns_a, POD_A), (cls.ns_b, POD_B)])
            cls.start_control(MESH % {"echo": ECHO_IP, "banner": BANNER_IP, "smtp": SMTP_IP,
                                      "web": WEB_IP, "b": POD_B}, ["client", "echo"])
            cls.echo_pod = injected_pod(ECHO_POD)
            cls.health_file = os.path.join(cls.dir, "echo-unhealthy")
            cls.start_pod(cls.ns_a, "client-0", POD_A, "client")
            cls.start_pod(cls.ns_b, "echo-0", POD_B, "echo",
                          {"WEFT_APP_PROBES": proxy_env(cls.echo_pod)["WEFT_APP_PROBES"]})
            cls.spawn(cls.ns_b, ["python3", BACKEND, "--port", "8080", "--host", "0.0.0.0",
                                 "--name", "echo", "--health-file", cls.health_file],
                      name="echo-app")
            cls.spawn(cls.ns_b, [GRPC_SERVER, "--port", "50051", "--host", "0.0.0.0",
                                 "--health-file", cls.health_file], name="cart-app")
            cls.spawn(cls.ns_b, ["python3", BACKEND, "--port", "9000", "--host", "0.0.0.0",
                                 "--banner"], name="banner-app")
            cls.spawn(cls.ns_b, ["python3", BACKEND, "--port", "7070", "--host", "0.0.0.0",
                                 "--banner"], name="unlisted-app")
            cls.spawn(cls.ns_b, ["python3", BACKEND, "--port", "9100", "--host", "0.0.0.0",
                                 "--banner"], name="smtp-app")
            cls.spawn(cls.ns_b, ["python3", BACKEND, "--port", "8180", "--host", "0.0.0.0",
                                 "--name", "web"], name="web-app")
            cls.spawn(cls.ns_c, ["python3", BACKEND, "--port", "7000", "--host", CONTROL,
                                 "--banner"], name="outside-app")
            cls.wait_for_sidecars([cls.ns_a, cls.ns_b])
            # Every app listening before the first test: a request that reaches B's sidecar
            # before the echo app binds gets a 503, not the echo.
            cls.wait_for(lambda: all(cls.in_pod(cls.ns_b, ["python3", "-c", tcp_banner(
                "127.0.0.1", port)]).returncode == 0 for port in (9000, 7070, 9100)) and cls.in_pod(
                    cls.ns_b, ["curl", "-sf", "http://127.0.0.1:8080/headers"]).returncode == 0,
                "the apps in pod B")
        except BaseException:
            cls.tearDownClass()
            raise

    def test_http_to_a_service_ip_arrives_over_mtls_whatever_the_host(self):
        for host in (ECHO_IP, "anything.example"):
            out = self.in_pod(self.ns_a, ["curl", "-s", "--max-time", "10", "-H", "Host: " + host,
                                          "http://%s/headers" % ECHO_IP])
            if out.returncode != 0:
                self.fail("curl: %s\n%s" % (out.stderr, self.logs()))
            if not out.stdout.startswith("{"):
                self.fail("not the echo's JSON: %r\n%s" % (out.stdout, self.logs()))
            headers = json.loads(out.stdout)
            # B's sidecar terminated mTLS and saw A's SPIFFE identity from the CA.
            self.assertIn("URI=" + TRUST + "client", headers.get("x-forwarded-client-cert", ""))
        text_a, text_b = self.metrics(self.ns_a), self.metrics(self.ns_b)
        self.assertGreaterEqual(metric_sum(text_a, "weft_upstream_rq_total",
                                           cluster="outbound|80||echo.shop.svc.cluster.local"), 2)
        self.assertGreaterEqual(metric_sum(text_b, "weft_upstream_rq_total",
                                           cluster="inbound|8080||"), 2)
        self.assertGreaterEqual(metric_sum(text_b, "weft_tls_handshakes_total"), 1)

    def test_tcp_to_a_service_ip_arrives_over_mtls(self):
        before = metric_sum(self.metrics(self.ns_b), "weft_tls_handshakes_total")
        out = self.in_pod(self.ns_a, ["python3", "-c", tcp_banner(BANNER_IP, 9000)])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "220 weft-test ready")
        self.assertGreater(metric_sum(self.metrics(self.ns_b), "weft_tls_handshakes_total"),
                           before)
        # Istio's TCP metrics from both sidecars (the close is counted once both sockets end).
        text_a, text_b = self.metrics(self.ns_a), self.metrics(self.ns_b)
        self.assertGreaterEqual(metric_sum(
            text_a, "istio_tcp_connections_opened_total", reporter="source",
            source_workload="client-0", destination_service="banner.shop.svc.cluster.local"), 1)
        self.assertGreaterEqual(metric_sum(
            text_a, "istio_tcp_sent_bytes_total", reporter="source",
            destination_service_name="banner"), len("220 weft-test ready"))
        self.assertGreaterEqual(metric_sum(
            text_b, "istio_tcp_connections_opened_total", reporter="destination",
            destination_workload="echo-0", source_principal=TRUST + "client",
            connection_security_policy="mutual_tls"), 1)
        self.assertGreaterEqual(metric_sum(
            text_b, "istio_tcp_sent_bytes_total", reporter="destination",
            source_principal=TRUST + "client"), len("220 weft-test ready"))
        # The sidecars exchanged their workloads' metadata ahead of the app's
        # bytes (ALPN weft-peer-exchange/1): both reporters carry both
        # workloads, and the banner (server speaks first) arrived intact above.
        self.assertGreaterEqual(metric_sum(
            text_a, "istio_tcp_connections_opened_total", reporter="source",
            source_workload="client-0", destination_workload="echo-0",
            destination_workload_namespace="shop", destination_principal=TRUST + "echo"), 1)
        self.assertGreaterEqual(metric_sum(
            text_b, "istio_tcp_connections_opened_total", reporter="destination",
            source_workload="client-0", source_workload_namespace="shop",
            destination_service="banner.shop.svc.cluster.local"), 1)

    def test_server_first_tcp_on_an_unnamed_port_gets_its_banner(self):
        # The client sends nothing first: A's sidecar waits the detection
        # timeout (100 ms), then proxies TCP over mTLS; B picks its TCP chain
        # by the ALPN A's TCP cluster offers.
        started = time.monotonic()
        out = self.in_pod(self.ns_a, ["python3", "-c", tcp_banner(SMTP_IP, 25)])
        elapsed = time.monotonic() - started
        self.assertEqual(out.returncode, 0, out.stderr + self.logs())
        self.assertEqual(out.stdout.strip(), "220 weft-test ready")
        print("banner through detection in %.0f ms (python start included)" % (elapsed * 1000))
        text_a, text_b = self.metrics(self.ns_a), self.metrics(self.ns_b)
        self.assertGreaterEqual(metric_sum(text_a, "weft_protocol_detections_total",
                                           listener="outbound|%s_25" % SMTP_IP,
                                           result="timeout"), 1)
        self.assertGreaterEqual(metric_sum(text_b, "weft_protocol_detections_total",
                                           listener="inbound|9100", result="tls"), 1)
        self.assertGreaterEqual(metric_sum(
            text_b, "istio_tcp_connections_opened_total", reporter="destination",
            destination_service="smtp.shop.svc.cluster.local", source_principal=TRUST + "client",
            connection_security_policy="mutual_tls"), 1)

    def test_http_on_an_unnamed_port_is_routed_at_l7(self):
        out = self.in_pod(self.ns_a, ["curl", "-s", "--max-time", "10",
                                      "http://%s/headers" % WEB_IP])
        self.assertEqual(out.returncode, 0, out.stderr + self.logs())
        headers = json.loads(out.stdout)
        self.assertIn("URI=" + TRUST + "client", headers.get("x-forwarded-client-cert", ""))
        text_a, text_b = self.metrics(self.ns_a), self.metrics(self.ns_b)
        self.assertGreaterEqual(metric_sum(text_a, "weft_protocol_detections_total",
                                           listener="outbound|%s_80" % WEB_IP,
                                           result="http/1.1"), 1)
        self.assertGreaterEqual(metric_sum(text_b, "weft_protocol_detections_total",
                                           listener="inbound|8180", result="tls"), 1)
        self.assertGreaterEqual(metric_sum(
            text_b, "istio_requests_total", reporter="destination", response_code="200",
            destination_service="web.shop.svc.cluster.local",
            source_principal=TRUST + "client"), 1)

    def test_plaintext_straight_to_the_pod_is_refused(self):
        # The proxy's UID bypasses A's rules: plaintext straight to B's port
        # still lands in B's sidecar, which demands mTLS (STRICT).
        out = self.in_pod(self.ns_a, ["curl", "-s", "--max-time", "5",
                                      "http://%s:8080/" % POD_B], uid=UID)
        self.assertNotEqual(out.returncode, 0)
        self.assertNotIn("echo", out.stdout)
        # So is a port no Service names: the inbound passthrough is STRICT too.
        unlisted = self.in_pod(self.ns_a, ["python3", "-c", tcp_banner(POD_B, 7070)])
        self.assertNotIn("220 weft-test ready", unlisted.stdout)

    def kubelet_probe(self, container, kind):
        """What the kubelet does, from the node (pod C's namespace here): the
        probe the injected pod declares, against the pod's IP."""
        spec = next(c for c in self.echo_pod["spec"]["containers"] if c["name"] == container)
        get = spec[kind + "Probe"]["httpGet"]
        out = self.in_pod(self.ns_c, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                      "--max-time", "5", "http://%s:%d%s" % (
                                          POD_B, get["port"], get["path"])])
        return int(out.stdout or 0)

    def test_kubelet_probes_reach_the_app_through_the_status_port_under_strict(self):
        # The injector moved every network probe to the status port.
        containers = {c["name"]: c for c in self.echo_pod["spec"]["containers"]}
        self.assertEqual(containers["echo"]["readinessProbe"]["httpGet"],
                         {"path": "/app-health/echo/readiness", "port": 15020, "scheme": "HTTP"})
        self.assertEqual(containers["echo"]["readinessProbe"]["timeoutSeconds"], 2)
        self.assertEqual(containers["cart"]["readinessProbe"]["httpGet"]["path"],
                         "/app-health/cart/readiness")
        # The original probe, from outside the pod, is refused: STRICT wants a certificate.
        original = self.in_pod(self.ns_c, ["curl", "-s", "--max-time", "5",
                                           "http://%s:8080/healthz" % POD_B])
        self.assertNotEqual(original.returncode, 0)
        self.assertNotIn("ok", original.stdout)
        # The rewritten ones answer with the app's real health, and follow it.
        try:
            for kind, container in (("readiness", "echo"), ("readiness", "cart"),
                                    ("liveness", "echo")):
                self.wait_for(lambda: self.kubelet_probe(container, kind) == 200,
                              "%s %s probe passing" % (container, kind))
            self.assertEqual(self.kubelet_probe("idle", "liveness"), 503)  # nothing on 7999
            open(self.health_file, "w").close()
            self.wait_for(lambda: self.kubelet_probe("echo", "readiness") == 503,
                          "the HTTP probe failing with the app")
            self.wait_for(lambda: self.kubelet_probe("cart", "readiness") == 503,
                          "the gRPC probe failing with the app")
            self.assertEqual(self.kubelet_probe("echo", "liveness"), 200)  # TCP still accepts
        finally:
            if os.path.exists(self.health_file):
                os.unlink(self.health_file)
        self.wait_for(lambda: self.kubelet_probe("echo", "readiness") == 200
                      and self.kubelet_probe("cart", "readiness") == 200, "the probes recovering")
        # An unknown app-health path is not a probe.
        out = self.in_pod(self.ns_c, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                      "http://%s:15020/app-health/nope/readiness" % POD_B])
        self.assertEqual(out.stdout, "404")

    def test_outside_the_mesh_passes_through(self):
        out = self.in_pod(self.ns_a, ["python3", "-c", tcp_banner(CONTROL, 7000)])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "220 weft-test ready")
        self.assertGreaterEqual(metric_sum(self.metrics(self.ns_a), "weft_upstream_cx_total",
                                           cluster="PassthroughCluster")
                                + metric_sum(self.metrics(self.ns_a), "weft_downstream_cx_total",
                                             listener="outbound"), 1)

    def test_the_control_plane_sees_both_sidecars(self):
        syncz = json.loads(self.in_pod(self.ns_c, ["curl", "-s",
                                                    "http://127.0.0.1:15014/debug/syncz"]).stdout)
        nodes = {p["node_id"]: p for p in syncz}
        self.assertEqual(sorted(nodes), ["client-0.shop", "echo-0.shop"])
        for node in nodes.values():
            self.assertEqual({t["status"] for t in node["types"].values()}, {"SYNCED"})


if __name__ == "__main__":
    unittest.main()
