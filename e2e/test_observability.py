"""Istio's standard metrics from a weft mesh, read the way canary tools read
them: a real Prometheus (Debian's) scrapes three sidecars and weft-control,
and the queries Flagger's Istio provider runs for a canary analysis (request
success rate and p99 duration of the canary workload) report the share of
requests the canary's app fails and its latency. Both reporters of a call
carry both workloads' labels; promtool lints every exposition."""

import http.client
import json
import os
import socket
import subprocess
import sys
import shutil
import tempfile
import time
import unittest
import urllib.request

from harness import (WEFTCTL_BIN, Backend, BannerBackend, ControlPlane, Proxy, bootstrap,
                     free_port,
                     http_listener, route_to, run_proxy_expect_failure, static_cluster,
                     tcp_listener, wait_for, xds_bootstrap)
from otlp import OtlpCollector
from prometheus import Prometheus, promtool_check_metrics
from test_xds import write

TD = "spiffe://cluster.local/ns/default/sa/"

MESH = """
apiVersion: weft.dev/v1alpha1
kind: MeshConfig
metadata: {name: mesh, namespace: weft-system}
spec:
  mtls: {mode: STRICT}
  accessLog: {mode: JSON}
  tracing: {collector: "http://127.0.0.1:%(collector)d/v1/traces", samplingPercent: 100}
---
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  ports: [{name: http, port: 80, targetPort: %(port)d}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: reviews-slice
  labels: {kubernetes.io/service-name: reviews}
addressType: IPv4
ports: [{name: http, port: %(port)d}]
endpoints:
- addresses: [127.0.51.1]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: reviews-v1-0, namespace: default}
- addresses: [127.0.52.1]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: reviews-v2-0, namespace: default}
"""

# Flagger's Istio provider (pkg/metrics/providers/istio.go), namespace,
# target and interval filled in as Flagger fills them.
SUCCESS_RATE = ('sum(rate(istio_requests_total{reporter="%(reporter)s",'
                'destination_workload_namespace="default",destination_workload=~"%(target)s",'
                'response_code!~"5.*"}[1m])) / sum(rate(istio_requests_total{'
                'reporter="%(reporter)s",destination_workload_namespace="default",'
                'destination_workload=~"%(target)s"}[1m])) * 100')
DURATION_P99 = ('histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{'
                'reporter="destination",destination_workload_namespace="default",'
                'destination_workload=~"%(target)s"}[1m])) by (le))')

# The one finding promtool's lint makes that weft must keep: Istio's own
# metric name (Kiali, Flagger and Istio's dashboards query it by that name).
ISTIO_NAME_FINDING = 'istio_request_duration_milliseconds use base unit "seconds"'

REQUESTS = 400
FAIL_ONE_IN = 5  # the canary's app fails 20% of what it gets
CANARY_DELAY_MS = 30


class ObservabilityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="weft-observability-")
        cls.proxies, cls.backends = [], []
        cls.prometheus = cls.control = cls.collector = None
        try:
            cls.start_mesh()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def start_mesh(cls):
        config = os.path.join(cls.dir, "config")
        os.mkdir(config)
        cls.data = os.path.join(cls.dir, "ca")
        tokens = os.path.join(cls.dir, "tokens")
        with open(tokens, "w") as f:
            f.write("tok-web default web\ntok-reviews default reviews\n")
        port = free_port()
        cls.collector = OtlpCollector()
        write(os.path.join(config, "mesh.yaml"), MESH % {"port": port,
                                                          "collector": cls.collector.http_port})
        cls.ca_port = free_port()
        cls.control = ControlPlane(config, extra_args=[
            "--ca-address", "127.0.0.1:%d" % cls.ca_port, "--data-dir", cls.data,
            "--workload-tokens", tokens])
        cls.v1 = Backend("reviews-v1", host="127.0.53.1", port=port)
        cls.v2 = Backend("reviews-v2", host="127.0.54.1", port=port, delay_ms=CANARY_DELAY_MS)
        cls.backends += [cls.v1, cls.v2]
        cls.sidecar("reviews-v1-0.default", "reviews", APP_IP="127.0.53.1",
                    WORKLOAD_NAME="reviews-v1", APP="reviews", VERSION="v1")
        cls.sidecar("reviews-v2-0.default", "reviews", APP_IP="127.0.54.1",
                    WORKLOAD_NAME="reviews-v2", APP="reviews", VERSION="v2")
        cls.out_port = free_port()
        cls.sidecar("web-0.default", "web", OUTBOUND_PORT=cls.out_port, WORKLOAD_NAME="web",
                    APP="web", VERSION="v1")
        wait_for(lambda: cls.call()[0] == 200, "the mesh to serve", timeout=20)
        cls.start_tcp_pair()
        cls.prometheus = Prometheus({
            "sidecars": ("/stats/prometheus", ["127.0.0.1:%d" % p.admin_port
                                               for p in cls.proxies]),
            "weft-control": ("/metrics", ["127.0.0.1:%d" % cls.control.admin_port]),
        })
        wait_for(cls.prometheus.targets_up, "prometheus to scrape every target", timeout=20)
        # The canary analysis' window: the canary's app fails one request in five.
        cls.v2.server.fail_one_in = FAIL_ONE_IN
        cls.statuses = cls.traffic(REQUESTS)
        cls.v2.server.fail_one_in = 0
        cls.tcp_exchange()
        # One the client's sidecar answers itself (no route: response flag NR).
        conn = http.client.HTTPConnection("127.0.0.1", cls.out_port, timeout=10)
        conn.request("GET", "/", headers={"Host": "nowhere"})
        assert conn.getresponse().status == 404
        conn.close()
        cls.wait_scraped()

    @classmethod
    def start_tcp_pair(cls):
        """Opaque TCP through two statically configured sidecars (the mesh above routes
        only HTTP in explicit-proxy mode): web's OUTBOUND to reviews-v2's INBOUND."""
        cls.banner = BannerBackend()
        cls.backends.append(cls.banner)
        in_port, cls.tcp_port = free_port(), free_port()
        service_cluster = "outbound|9000||reviews.default.svc.cluster.local"
        for listener, cluster, node in (
                (tcp_listener("tcp-in", in_port, "banner"),
                 static_cluster("banner", [cls.banner.port]),
                 {"id": "reviews-v2-db.default", "metadata": {
                     "WORKLOAD_NAME": "reviews-v2", "APP": "reviews", "VERSION": "v2"}}),
                (tcp_listener("tcp-out", cls.tcp_port, service_cluster),
                 static_cluster(service_cluster, [in_port]),
                 {"id": "web-tcp.default", "metadata": {"WORKLOAD_NAME": "web", "APP": "web"}})):
            listener["traffic_direction"] = "INBOUND" if listener["name"] == "tcp-in" else "OUTBOUND"
            config = bootstrap([listener], [cluster], free_port())
            config["node"] = node
            cls.proxies.append(Proxy(config).wait_ready())

    @classmethod
    def tcp_exchange(cls):
        with socket.create_connection(("127.0.0.1", cls.tcp_port), timeout=5) as s:
            s.recv(64)
            s.sendall(b"ping")
            s.recv(64)

    @classmethod
    def sidecar(cls, node_id, service_account, **metadata):
        token_file = os.path.join(cls.dir, node_id + ".token")
        with open(token_file, "w") as f:
            f.write("tok-%s\n" % service_account)
        proxy = Proxy(xds_bootstrap(node_id, free_port(), cls.control.xds_port,
                                    SERVICE_ACCOUNT=service_account, **metadata),
                      extra_args=["--ca-address", "127.0.0.1:%d" % cls.ca_port,
                                  "--ca-root-cert", os.path.join(cls.data, "ca.pem"),
                                  "--ca-token-file", token_file])
        cls.proxies.append(proxy)
        return proxy.wait_ready()

    @classmethod
    def call(cls, conn=None, path="/"):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", cls.out_port, timeout=10)
        conn.request("GET", path, headers={"Host": "reviews"})
        resp = conn.getresponse()
        cls.last_body = resp.read()
        if own:
            conn.close()
        return resp.status, resp.getheader("x-backend"), resp.getheader("x-weft-peer-metadata")

    @classmethod
    def traffic(cls, count):
        statuses = {}
        conn = http.client.HTTPConnection("127.0.0.1", cls.out_port, timeout=10)
        deadline = time.time() + 60
        for _ in range(count):
            if time.time() > deadline:
                break
            status, backend, _ = cls.call(conn)
            statuses[(backend, status)] = statuses.get((backend, status), 0) + 1
        conn.close()
        return statuses

    @classmethod
    def wait_scraped(cls):
        """Until Prometheus holds the sidecars' final counts (two scrapes after the traffic)."""
        sent = sum(cls.statuses.values())
        wait_for(lambda: cls.prometheus.query(
            'sum(istio_requests_total{reporter="destination"})') and cls.prometheus.scalar(
                'sum(istio_requests_total{reporter="destination"})') >= sent,
            "prometheus to scrape the final counts", timeout=20)
        time.sleep(2.2)  # two more 1 s scrapes: rate() sees the last samples

    @classmethod
    def tearDownClass(cls):
        if cls.prometheus:
            cls.prometheus.stop()
        for p in cls.proxies:
            p.stop()
        for b in cls.backends:
            b.stop()
        if cls.control:
            cls.control.stop()
        if cls.collector:
            cls.collector.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def canary_share(self):
        """What the canary's app failed, as the client saw it."""
        v2 = sum(n for (backend, _), n in self.statuses.items() if backend == "reviews-v2")
        failed = self.statuses.get(("reviews-v2", 500), 0)
        self.assertGreater(v2, REQUESTS // 4, self.statuses)
        return v2, 100.0 * (v2 - failed) / v2

    def test_flagger_success_rate_reports_the_share_the_canary_fails(self):
        v2, expected = self.canary_share()
        for reporter in ("destination", "source"):
            rate = self.prometheus.scalar(SUCCESS_RATE % {"reporter": reporter,
                                                          "target": "reviews-v2"})
            print("\n  %s reporter: reviews-v2 success rate %.1f%% (the client saw %.1f%% of %d)"
                  % (reporter, rate, expected, v2))
            self.assertAlmostEqual(rate, expected, delta=3.0)
            stable = self.prometheus.scalar(SUCCESS_RATE % {"reporter": reporter,
                                                            "target": "reviews-v1"})
            self.assertEqual(stable, 100.0)

    def test_flagger_p99_duration_shows_the_canarys_latency(self):
        canary = self.prometheus.scalar(DURATION_P99 % {"target": "reviews-v2"})
        stable = self.prometheus.scalar(DURATION_P99 % {"target": "reviews-v1"})
        print("\n  p99: reviews-v1 %.1f ms, reviews-v2 %.1f ms (its app sleeps %d ms)"
              % (stable, canary, CANARY_DELAY_MS))
        # Istio's buckets: 30 ms lands in (25, 50].
        self.assertGreaterEqual(canary, 25)
        self.assertLessEqual(canary, 100)
        self.assertLess(stable, canary)

    def test_weftctl_stat_from_prometheus_shows_each_version(self):
        out = subprocess.run([WEFTCTL_BIN, "stat", "service/reviews", "-n", "default",
                              "--prometheus", "127.0.0.1:%d" % self.prometheus.port],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        print("\n" + out.stdout)
        rows = {line.split()[0]: line.split() for line in out.stdout.splitlines()[2:]}
        _, expected = self.canary_share()
        self.assertAlmostEqual(float(rows["reviews-v2"][1].rstrip("%")), expected, delta=3.0)
        self.assertEqual(rows["reviews-v1"][1], "100.00%")
        self.assertGreaterEqual(float(rows["reviews-v2"][4]), 25)  # p99 in Istio's (25, 50]

    def test_weftctl_stat_reads_one_sidecar_over_the_window(self):
        v2 = self.proxies[1]
        stat = subprocess.Popen([WEFTCTL_BIN, "stat", "workload/reviews-v2", "--window", "3s",
                                 "--proxy", "127.0.0.1:%d" % v2.admin_port],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)  # its first scrape is taken
        self.v2.server.fail_one_in = 2
        try:
            counts = self.traffic(40)
        finally:
            self.v2.server.fail_one_in = 0
        out, err = stat.communicate(timeout=30)
        self.assertEqual(stat.returncode, 0, err)
        print("\n" + out)
        row = [line.split() for line in out.splitlines() if line.startswith("reviews-v2")][0]
        served = sum(n for (backend, _), n in counts.items() if backend == "reviews-v2")
        failed = counts.get(("reviews-v2", 500), 0)
        self.assertAlmostEqual(float(row[1].rstrip("%")), 100.0 * (served - failed) / served,
                               delta=0.01)

    def test_both_reporters_carry_both_workloads(self):
        for reporter in ("source", "destination"):
            series = self.prometheus.query(
                'istio_requests_total{reporter="%s",destination_workload="reviews-v2",'
                'response_code="500"}' % reporter)
            self.assertEqual(len(series), 1, series)
            labels = series[0][0]
            self.assertEqual(labels["source_workload"], "web")
            self.assertEqual(labels["source_app"], "web")
            self.assertEqual(labels["source_version"], "v1")
            self.assertEqual(labels["source_workload_namespace"], "default")
            self.assertEqual(labels["source_principal"], TD + "web")
            self.assertEqual(labels["destination_app"], "reviews")
            self.assertEqual(labels["destination_version"], "v2")
            self.assertEqual(labels["destination_canonical_service"], "reviews")
            self.assertEqual(labels["destination_canonical_revision"], "v2")
            self.assertEqual(labels["destination_principal"], TD + "reviews")
            self.assertEqual(labels["destination_service"], "reviews.default.svc.cluster.local")
            self.assertEqual(labels["destination_service_name"], "reviews")
            self.assertEqual(labels["destination_service_namespace"], "default")
            self.assertEqual(labels["request_protocol"], "http")
            self.assertEqual(labels["response_flags"], "-")
            self.assertEqual(labels["source_cluster"], "Kubernetes")
            self.assertEqual(labels["connection_security_policy"],
                             "mutual_tls" if reporter == "destination" else "unknown")

    def test_the_apps_never_see_the_peer_metadata(self):
        status, _, header = self.call(path="/headers")
        self.assertEqual(status, 200)
        self.assertIsNone(header)  # the source sidecar took it off the response
        seen = json.loads(self.last_body)  # the destination took it off the request
        self.assertNotIn("x-weft-peer-metadata", seen)
        self.assertIn("URI=" + TD + "web", seen["x-forwarded-client-cert"])

    def test_every_dashboard_expression_returns_series(self):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                        "deploy", "dashboards"))
        import make_dashboards
        # A workload's dashboard shows both directions; a workload may use only one.
        bindings = [{"$namespace": "default", "$service": "reviews", "$workload": w}
                    for w in ("reviews-v2", "web")]
        checked = 0
        for name, text in make_dashboards.render().items():
            for panel in json.loads(text)["panels"]:
                for target in panel["targets"]:
                    answers = []
                    for binding in bindings:
                        expr = target["expr"].replace("$__rate_interval", "1m")
                        for var, value in binding.items():
                            expr = expr.replace(var, value)
                        answers.append(self.prometheus.query(expr))
                    self.assertTrue(any(answers), "%s / %s: no series for %s"
                                    % (name, panel["title"], target["expr"]))
                    checked += 1
        print("\n  %d dashboard expressions, each with series" % checked)

    @staticmethod
    def access_log(proxy):
        """The JSON access-log lines on a sidecar's stdout (its own logs are not JSON)."""
        with open(proxy.log_path) as f:
            return [json.loads(line) for line in f if line.startswith("{")]

    def test_json_access_logs_at_both_sidecars_share_the_request_id(self):
        web, v1, v2 = self.proxies[2], self.proxies[0], self.proxies[1]
        conn = http.client.HTTPConnection("127.0.0.1", self.out_port, timeout=10)
        for i in range(4):  # round robin: two reach each version
            conn.request("GET", "/traced/%d" % i, headers={
                "Host": "reviews", "x-request-id": "obs-%d" % i,
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
            conn.getresponse().read()
        conn.close()

        def lines(proxy, prefix="obs-"):
            return {e["request_id"]: e for e in self.access_log(proxy)
                    if (e.get("request_id") or "").startswith(prefix)}
        wait_for(lambda: len(lines(web)) == 4 and len(lines(v1)) + len(lines(v2)) == 4,
                 "both sidecars' access-log lines (flushed within 100 ms)", timeout=5)
        outbound, inbound = lines(web), {**lines(v1), **lines(v2)}
        for rid, out in outbound.items():
            self.assertIn(rid, inbound, "the destination logged the same x-request-id")
            at_dest = inbound[rid]
            self.assertEqual(out["method"], "GET")
            self.assertEqual(out["path"], "/traced/" + rid[-1])
            self.assertEqual(out["response_code"], 200)  # a number, not a string
            self.assertEqual(out["response_flags"], "-")
            self.assertEqual(out["upstream_cluster"], "outbound|80||reviews.default.svc.cluster.local")
            self.assertIn(out["upstream_host"].split(":")[0], ("127.0.51.1", "127.0.52.1"))
            # The trace goes on; its parent is now the client sidecar's span.
            self.assertRegex(out["traceparent"],
                             r"^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$")
            self.assertIsNone(out["downstream_peer_uri_san"])  # the app is no TLS peer
            self.assertEqual(at_dest["downstream_peer_uri_san"], TD + "web")
            self.assertEqual(at_dest["protocol"], "HTTP/2")  # between the sidecars
            self.assertEqual(out["protocol"], "HTTP/1.1")
            self.assertGreater(at_dest["bytes_sent"], 0)
            self.assertGreaterEqual(out["duration"], at_dest["duration"])
            self.assertRegex(at_dest["start_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    def test_a_request_without_an_id_gets_one_that_every_hop_logs(self):
        status, _, _ = self.call(path="/headers")
        self.assertEqual(status, 200)
        rid = json.loads(self.last_body).get("x-request-id", "")
        self.assertRegex(rid, r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        wait_for(lambda: any(e.get("request_id") == rid for e in self.access_log(self.proxies[2]))
                 and any(e.get("request_id") == rid for p in self.proxies[:2]
                         for e in self.access_log(p)),
                 "the generated id in both sidecars' logs", timeout=5)

    def test_a_call_is_one_trace_across_both_sidecars_over_mtls(self):
        """MeshConfig spec.tracing: both sidecars export their span of the call."""
        trace = "5af7651916cd43dd8448eb211c80319c"
        conn = http.client.HTTPConnection("127.0.0.1", self.out_port, timeout=10)
        conn.request("GET", "/headers", headers={
            "Host": "reviews", "traceparent": "00-%s-b7ad6b7169203331-01" % trace})
        seen = json.loads(conn.getresponse().read())
        conn.close()
        spans = self.collector.wait_for_spans(2, where=lambda s: s["trace_id"] == trace)
        self.assertEqual(len(spans), 2, spans)
        client = next(s for s in spans if s["kind"] == "SPAN_KIND_CLIENT")
        server = next(s for s in spans if s["kind"] == "SPAN_KIND_SERVER")
        self.assertEqual(client["parent_span_id"], "b7ad6b7169203331")  # the app's own span
        self.assertEqual(server["parent_span_id"], client["span_id"])
        self.assertEqual(seen["traceparent"], "00-%s-%s-01" % (trace, server["span_id"]))
        self.assertEqual(client["resource"]["service.name"], "web.default")
        self.assertEqual(server["resource"]["service.name"], "reviews.default")
        self.assertEqual(client["name"], "reviews.default.svc.cluster.local/*")
        self.assertEqual(client["attributes"]["upstream_cluster"],
                         "outbound|80||reviews.default.svc.cluster.local")
        self.assertEqual(client["attributes"]["istio.canonical_service"], "web")
        self.assertEqual(server["attributes"]["istio.canonical_service"], "reviews")
        self.assertEqual(server["attributes"]["http.protocol"], "HTTP/2")  # between the sidecars
        self.assertEqual(server["attributes"]["network.protocol.version"], "2")
        # The peers' identities: the caller's from its certificate, the callee's from the exchange.
        self.assertEqual(server["attributes"]["source.principal"], TD + "web")
        self.assertEqual(client["attributes"]["destination.principal"], TD + "reviews")
        self.assertNotIn("source.principal", client["attributes"])  # the app has no certificate
        self.assertEqual(server["attributes"]["peer.address"].split(":")[0], "127.0.0.1")

    def test_promtool_lints_every_exposition(self):
        targets = [("sidecar %s" % p.admin_port, "http://127.0.0.1:%d/stats/prometheus"
                    % p.admin_port) for p in self.proxies]
        targets.append(("weft-control", "http://127.0.0.1:%d/metrics" % self.control.admin_port))
        for name, url in targets:
            with urllib.request.urlopen(url, timeout=5) as r:
                text = r.read().decode()
            ok, said = promtool_check_metrics(text)
            findings = [line for line in said.splitlines() if line.strip()]
            allowed = [f for f in findings if f.startswith(ISTIO_NAME_FINDING)]
            self.assertEqual(findings, allowed, "%s: promtool check metrics:\n%s" % (name, said))
            if not findings:
                self.assertTrue(ok, said)


if __name__ == "__main__":
    unittest.main()


FILE_LOG = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"


def file_log(path, **log_format):
    typed = {"@type": FILE_LOG, "path": path}
    if log_format:
        typed["log_format"] = log_format
    return [{"name": "envoy.access_loggers.file", "typed_config": typed}]


class StaticAccessLogTest(unittest.TestCase):
    """Envoy's access-log configuration in a bootstrap: text and JSON to files,
    HTTP and TCP, lines written at exit, a file that cannot be opened refused."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="weft-access-log-")
        self.backend = Backend("app")
        self.banner = BannerBackend()
        self.http_log = os.path.join(self.dir, "http.log")
        self.tcp_log = os.path.join(self.dir, "tcp.log")
        self.http_port, self.tcp_port = free_port(), free_port()
        http = http_listener("web", self.http_port, [{
            "name": "all", "domains": ["*"], "routes": [dict(route_to("app"), name="to-app")]}],
            access_log=file_log(self.http_log, text_format_source={"inline_string": (
                "%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL% %RESPONSE_CODE% %BYTES_RECEIVED% "
                "%BYTES_SENT% %UPSTREAM_CLUSTER% %ROUTE_NAME% %REQ(X-REQUEST-ID):8%\n")}))
        tcp = tcp_listener("db", self.tcp_port, "banner")
        tcp["filter_chains"][0]["filters"][0]["typed_config"]["access_log"] = file_log(
            self.tcp_log, json_format={"received": "%BYTES_RECEIVED%", "sent": "%BYTES_SENT%",
                                       "cluster": "%UPSTREAM_CLUSTER%", "code": "%RESPONSE_CODE%",
                                       "method": "%REQ(:METHOD)%"})
        self.proxy = Proxy(bootstrap([http, tcp], [
            static_cluster("app", [self.backend.port]),
            static_cluster("banner", [self.banner.port])], free_port())).wait_ready()

    def tearDown(self):
        self.proxy.stop()
        self.backend.stop()
        self.banner.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def read(self, path):
        return open(path).read() if os.path.exists(path) else ""

    def test_http_and_tcp_lines_in_their_formats(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=5)
        conn.request("POST", "/echo", body=b"hello", headers={"x-request-id": "abcdefghijkl"})
        self.assertEqual(conn.getresponse().read(), b"hello")
        conn.close()
        import socket
        with socket.create_connection(("127.0.0.1", self.tcp_port), timeout=5) as s:
            banner = s.recv(64)
            s.sendall(b"ping")
            s.recv(64)
        wait_for(lambda: self.read(self.http_log) and self.read(self.tcp_log), "both logs",
                 timeout=5)
        self.assertEqual(self.read(self.http_log),
                         "POST /echo HTTP/1.1 200 5 5 app to-app abcdefgh\n")
        wait_for(lambda: self.read(self.tcp_log).endswith("\n"), "the TCP line", timeout=5)
        line = json.loads(self.read(self.tcp_log))
        self.assertEqual(line, {"received": 4, "sent": len(banner) + 4, "cluster": "banner",
                                "code": 0, "method": None})

    def test_lines_of_the_last_requests_survive_the_exit(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=5)
        for _ in range(50):
            conn.request("GET", "/")
            conn.getresponse().read()
        conn.close()
        self.proxy.proc.terminate()  # drain, then exit: buffered lines are flushed
        self.proxy.proc.wait(10)
        self.assertEqual(len(self.read(self.http_log).splitlines()), 50)

    def test_a_log_that_cannot_be_opened_or_formatted_is_refused(self):
        http = http_listener("web", free_port(), [{"name": "all", "domains": ["*"],
                                                   "routes": [route_to("app")]}],
                             access_log=file_log("/nonexistent-dir/access.log"))
        code, output, _ = run_proxy_expect_failure(json.dumps(
            bootstrap([http], [static_cluster("app", [self.backend.port])], free_port())),
            suffix=".json")
        self.assertNotEqual(code, 0)
        self.assertIn("access_log[0].typed_config.path: cannot open '/nonexistent-dir/access.log'",
                      output)
        http["filter_chains"][0]["filters"][0]["typed_config"]["access_log"] = file_log(
            os.path.join(self.dir, "x.log"), text_format="%DURATION% %UPSTREAM_PEER%")
        code, output, _ = run_proxy_expect_failure(json.dumps(
            bootstrap([http], [static_cluster("app", [self.backend.port])], free_port())),
            suffix=".json")
        self.assertNotEqual(code, 0)
        self.assertIn("unknown command operator %UPSTREAM_PEER%", output)
