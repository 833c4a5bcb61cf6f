"""Runtime state across configuration pushes (issue 11): requests mid-retry
while weft-control pushes unrelated Services (this crashed weft-proxy), an
outlier ejection and the circuit-breaker counters that must survive pushes
that do not touch them. Real weft-control, real weft-proxy, real backends."""

import concurrent.futures
import http.client
import os
import tempfile
import time
import unittest

from harness import Backend, ControlPlane, Proxy, free_port, wait_for, xds_bootstrap

MESH = """
apiVersion: v1
kind: Service
metadata: {name: slow}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: slow-1, labels: {kubernetes.io/service-name: slow}}
addressType: IPv4
ports: [{name: http, port: %(slow)d}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: slow}
spec:
  parentRefs: [{kind: Service, name: slow}]
  rules:
  - retry: {attempts: 3, codes: [503], backoff: 5ms}
    backendRefs: [{name: slow, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: pair}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: pair-1, labels: {kubernetes.io/service-name: pair}}
addressType: IPv4
ports: [{name: http, port: %(pair)d}]
endpoints:
- addresses: [127.0.51.1]
- addresses: [127.0.51.2]
---
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: pair}
spec:
  targetRef: {name: pair}
  outlierDetection: {consecutive5xx: 3, interval: 1s, baseEjectionTime: 60s, maxEjectionPercent: 50}
"""

EXTRA = """
apiVersion: v1
kind: Service
metadata: {name: extra-%(i)d}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: extra-%(i)d-1, labels: {kubernetes.io/service-name: extra-%(i)d}}
addressType: IPv4
ports: [{name: http, port: 9}]
endpoints: [{addresses: [127.0.52.%(i)d]}]
"""


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


class RuntimeStateAcrossPushesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # 503 after 400 ms: every request is mid-retry most of its life.
        cls.slow = Backend("slow", delay_ms=400, fail_status=503)
        cls.pair_port = free_port()
        cls.good = Backend("good", host="127.0.51.1", port=cls.pair_port)
        cls.bad = Backend("bad", host="127.0.51.2", port=cls.pair_port, fail_status=500)
        d = tempfile.mkdtemp(prefix="weft-runtime-")
        cls.config = os.path.join(d, "config")
        os.mkdir(cls.config)
        write(os.path.join(cls.config, "mesh.yaml"), MESH % {"slow": cls.slow.port,
                                                              "pair": cls.pair_port})
        cls.control = ControlPlane(cls.config)
        cls.out = free_port()
        cls.client = Proxy(xds_bootstrap("client-0.default", free_port(), cls.control.xds_port,
                                         OUTBOUND_PORT=cls.out)).wait_ready()
        cls.extras = 0

    @classmethod
    def tearDownClass(cls):
        cls.client.stop()
        cls.control.stop()
        for b in (cls.slow, cls.good, cls.bad):
            b.stop()

    def push_unrelated(self):
        """Adds a Service the traffic under test never uses; returns once
        the client proxy has applied the new clusters."""
        before = self.client.xds_version("clusters")
        self.__class__.extras += 1
        i = self.extras
        write(os.path.join(self.config, "extra-%d.yaml" % i), EXTRA % {"i": i})
        wait_for(lambda: self.client.xds_version("clusters") != before,
                 "the push of extra-%d at the client proxy" % i, timeout=10)

    def get(self, host, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.out, timeout=timeout)
        try:
            conn.request("GET", "/", headers={"Host": host})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def test_requests_mid_retry_survive_unrelated_pushes(self):
        outcomes = []

        def client_loop(deadline):
            while time.time() < deadline:
                try:
                    outcomes.append(self.get("slow")[0])
                except OSError as e:
                    outcomes.append(repr(e))
        deadline = time.time() + 6
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(client_loop, deadline) for _ in range(8)]
            pushes = 0
            while time.time() < deadline - 1:
                self.push_unrelated()
                pushes += 1
                time.sleep(0.2)
            for f in futures:
                f.result()
        self.assertIsNone(self.client.proc.poll(), "weft-proxy died:\n" + self.client.output()[-3000:])
        print("\n  %d requests mid-retry across %d pushes" % (len(outcomes), pushes))
        self.assertGreater(pushes, 5)
        self.assertGreater(len(outcomes), 20)
        # Every request retried to the end and got the upstream's 503; none lost.
        self.assertEqual([o for o in outcomes if o != 503], [])

    def test_an_ejection_and_the_breaker_counts_survive_unrelated_pushes(self):
        wait_for(lambda: self.get("pair")[0] in (200, 500), "the pair service")
        for _ in range(20):  # round robin: the bad host gets every other request
            self.get("pair")
        clusters = self.client.admin("/clusters")[1]
        bad = "127.0.51.2:%d" % self.pair_port
        self.assertIn(bad + "::health_flags::/failed_outlier_check", clusters)
        for _ in range(3):
            self.push_unrelated()
        statuses = [self.get("pair")[0] for _ in range(40)]
        self.assertEqual(statuses, [200] * 40, "the ejected host got traffic after a push")
        self.assertIn(bad + "::health_flags::/failed_outlier_check",
                      self.client.admin("/clusters")[1])
        # Breaker counters are live counts, not reset by pushes: nothing is
        # left counted once the traffic is over.
        wait_for(lambda: self.client.metric("weft_upstream_rq_active", cluster="outbound|80||pair.default.svc.cluster.local") == 0,
                 "rq_active back to zero")


if __name__ == "__main__":
    unittest.main()
