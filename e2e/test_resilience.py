"""Retries (with a budget), per-try and route timeouts, the stale keep-alive
retry, and circuit breakers, against real failing backends."""

import concurrent.futures
import http.client
import socket
import time
import unittest

from harness import Backend, Proxy, bootstrap, free_port, http_listener, static_cluster


FAULT_TYPE = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"


def get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    return resp.status, resp.read(), dict(resp.getheaders())


class StreamTimeoutTest(unittest.TestCase):
    """The connection manager's request_timeout and stream_idle_timeout (400 ms
    each here; the route's own timeout off, so only these can act)."""

    @classmethod
    def setUpClass(cls):
        cls.app = Backend("app")
        cls.port, admin = free_port(), free_port()
        cls.proxy = Proxy(bootstrap(
            [http_listener("in", cls.port, [{"name": "all", "domains": ["*"], "routes": [
                # A route may allow its streams longer silences than the listener.
                {"match": {"prefix": "/", "headers": [{"name": "x-patient",
                                                       "string_match": {"exact": "1"}}]},
                 "route": {"cluster": "app", "timeout": "0s", "idle_timeout": "3s"}},
                {"match": {"prefix": "/"}, "route": {"cluster": "app", "timeout": "0s"}}]}],
                request_timeout="0.4s", stream_idle_timeout="0.4s")],
            [static_cluster("app", [cls.app.port])], admin)).wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.app.stop()

    def timeouts(self):
        return self.proxy.metric("weft_downstream_rq_timeout_total", listener="in")

    def test_a_request_body_that_never_finishes_gets_408(self):
        before = self.timeouts()
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            # Trickled: each byte is activity, so only request_timeout can end it.
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
            started, answer = time.monotonic(), b""
            sock.settimeout(0.1)
            for _ in range(50):
                try:
                    sock.sendall(b"x")
                    answer += sock.recv(4096)
                except socket.timeout:
                    pass
                except OSError:
                    break
                if b"request timeout" in answer:
                    break
        print("\n  request_timeout 400 ms: 408 after %.0f ms of a trickled body"
              % ((time.monotonic() - started) * 1000))
        self.assertTrue(answer.startswith(b"HTTP/1.1 408"), answer)
        self.assertIn(b"request timeout", answer)
        self.assertEqual(self.timeouts() - before, 1)

    def test_an_upstream_that_never_answers_gets_408(self):
        before = self.timeouts()
        status, body, _ = get(self.port, "/delay?ms=1500")
        self.assertEqual((status, body), (408, b"stream idle timeout\n"))
        self.assertEqual(self.timeouts() - before, 1)

    def test_a_response_stalled_midway_is_reset(self):
        before = self.timeouts()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", "/stall?chunks=3&stall_ms=1500")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        with self.assertRaises((http.client.IncompleteRead, ConnectionError)):
            resp.read()
        conn.close()
        self.assertEqual(self.timeouts() - before, 1)

    def test_a_route_idle_timeout_replaces_the_listeners(self):
        before = self.timeouts()
        status, body, _ = get(self.port, "/delay?ms=1000", headers={"x-patient": "1"})
        self.assertEqual((status, body), (200, b"app"))
        self.assertEqual(self.timeouts() - before, 0)

    def test_a_slow_but_steady_response_is_not_cut(self):
        before = self.timeouts()
        # 10 chunks 150 ms apart: 1.5 s in all, never 400 ms without a byte.
        status, body, _ = get(self.port, "/trickle?chunks=10&every_ms=150")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"".join(b"chunk%d" % i for i in range(10)))
        self.assertEqual(self.timeouts() - before, 0)


class OutlierDetectionTest(unittest.TestCase):
    def test_failing_endpoint_is_ejected_and_comes_back(self):
        good = [Backend("good-a"), Backend("good-b")]
        bad = Backend("bad", fail_status=500)
        port, admin = free_port(), free_port()
        proxy = Proxy(bootstrap(
            [http_listener("in", port, [{"name": "all", "domains": ["*"], "routes": [
                {"match": {"prefix": "/"}, "route": {"cluster": "three"}}]}])],
            [static_cluster("three", [good[0].port, good[1].port, bad.port],
                            outlier_detection={"consecutive_5xx": 3, "interval": "1s",
                                               "base_ejection_time": "2s",
                                               "max_ejection_percent": 50})],
            admin)).wait_ready()
        try:
            for _ in range(12):  # round robin: the bad endpoint fails its 3rd time by now
                get(port, "/")
            status, clusters = proxy.admin("/clusters")
            self.assertIn("three::127.0.0.1:%d::health_flags::/failed_outlier_check" % bad.port,
                          clusters)
            ejected_at = bad.requests
            statuses = [get(port, "/")[0] for _ in range(40)]
            self.assertEqual(bad.requests, ejected_at)  # it received nothing while ejected
            self.assertEqual(set(statuses), {200})
            self.assertEqual(proxy.metric("weft_upstream_outlier_ejections_total", cluster="three"),
                             1)
            self.assertEqual(proxy.metric("weft_upstream_outlier_ejections_active", cluster="three"),
                             1)
            time.sleep(2.3)  # base_ejection_time x 1 ejection
            # Until the bad endpoint gets one request (fewer than the 3 that
            # would eject it again: two workers round-robin on their own).
            for _ in range(6):
                get(port, "/")
                if bad.requests > ejected_at:
                    break
            self.assertGreater(bad.requests, ejected_at)  # back in rotation
            self.assertEqual(proxy.metric("weft_upstream_outlier_ejections_active", cluster="three"),
                             0)
        finally:
            proxy.stop()
            for b in good + [bad]:
                b.stop()


class ResilienceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.flaky = Backend("flaky")
        cls.dead = Backend("dead")           # answers 503 to everything we send it
        cls.slow = Backend("slow", delay_ms=1500)
        cls.fast = Backend("fast")
        cls.hold = Backend("hold", delay_ms=500)
        cls.pooled = Backend("pooled", delay_ms=200)
        cls.closer = Backend("closer", close_after_response=True)
        cls.port, admin = free_port(), free_port()
        retry = {"retry_on": "5xx", "num_retries": 3,
                 "retry_back_off": {"base_interval": "0.005s"}}
        retry7 = dict(retry, num_retries=7)
        routes = [
            {"match": {"prefix": "/flaky-retried7"},
             "route": {"cluster": "flaky", "prefix_rewrite": "/flaky", "retry_policy": retry7}},
            {"match": {"prefix": "/flaky-retried"},
             "route": {"cluster": "flaky", "prefix_rewrite": "/flaky", "retry_policy": retry}},
            {"match": {"prefix": "/flaky"}, "route": {"cluster": "flaky"}},
            {"match": {"prefix": "/status"}, "route": {"cluster": "dead", "retry_policy": retry}},
            {"match": {"prefix": "/per-try"},
             "route": {"cluster": "slow_then_fast", "timeout": "5s",
                       "retry_policy": {"retry_on": "5xx", "num_retries": 2,
                                        "per_try_timeout": "0.3s"}}},
            {"match": {"prefix": "/hold"}, "route": {"cluster": "hold"}},
            {"match": {"prefix": "/timeout"}, "route": {"cluster": "slow", "timeout": "0.3s"}},
            {"match": {"prefix": "/capped"},
             "route": {"cluster": "dead_capped", "prefix_rewrite": "/status/503",
                       "retry_policy": retry}},
            {"match": {"prefix": "/pooled"}, "route": {"cluster": "pooled", "timeout": "20s"}},
            {"match": {"prefix": "/closer"}, "route": {"cluster": "closer"}},
            {"match": {"prefix": "/fault-abort"}, "route": {"cluster": "flaky"},
             "typed_per_filter_config": {"envoy.filters.http.fault": {
                 "@type": FAULT_TYPE,
                 "abort": {"http_status": 503,
                           "percentage": {"numerator": 10, "denominator": "HUNDRED"}}}}},
            {"match": {"prefix": "/fault-delay"}, "route": {"cluster": "flaky"},
             "typed_per_filter_config": {"envoy.filters.http.fault": {
                 "@type": FAULT_TYPE,
                 "delay": {"fixed_delay": "0.2s",
                           "percentage": {"numerator": 100, "denominator": "HUNDRED"}}}}},
        ]
        budget = {"thresholds": [{"retry_budget": {"budget_percent": {"value": 20.0},
                                                   "min_retry_concurrency": 1}}]}
        cls.proxy = Proxy(bootstrap(
            [http_listener("in", cls.port, [{"name": "all", "domains": ["*"], "routes": routes}])],
            # 8 concurrent clients, each possibly in retry: min_retry_concurrency 8 keeps the
            # budget from binding here (a retry that starts while one client is between
            # requests would see 7 requests against 7 retries); "dead" tests the budget.
            [static_cluster("flaky", [cls.flaky.port], circuit_breakers={"thresholds": [
                {"retry_budget": {"budget_percent": {"value": 100.0},
                                  "min_retry_concurrency": 8}}]}),
             static_cluster("dead", [cls.dead.port], circuit_breakers=budget),
             static_cluster("dead_capped", [cls.dead.port],
                            circuit_breakers={"thresholds": [{"max_retries": 1}]}),
             static_cluster("slow_then_fast", [cls.slow.port, cls.fast.port]),
             static_cluster("hold", [cls.hold.port],
                            circuit_breakers={"thresholds": [{"max_requests": 5}]}),
             static_cluster("closer", [cls.closer.port]),
             static_cluster("slow", [cls.slow.port]),
             static_cluster("pooled", [cls.pooled.port], circuit_breakers={"thresholds": [
                 {"max_connections": 2, "max_pending_requests": 6}]})],
            admin)).wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        for b in (cls.flaky, cls.dead, cls.slow, cls.fast, cls.hold, cls.closer, cls.pooled):
            b.stop()

    def run_many(self, path, count, workers=8):
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda _: get(self.port, path)[0], range(count)))

    def test_retries_turn_a_50_percent_failure_into_success(self):
        # Independent 50% failures: 3 retries give 1 - 0.5^4 = 93.75%; it takes
        # 7 retries (1 - 0.5^8 = 99.6%) to clear 99%.
        retried7 = self.run_many("/flaky-retried7?p=50", 2000)
        retried = self.run_many("/flaky-retried?p=50", 2000)
        plain = self.run_many("/flaky?p=50", 2000)
        ok7, ok3, ok0 = (r.count(200) / len(r) for r in (retried7, retried, plain))
        print("\n  50%% failing backend over 2,000 requests: success %.1f%% with 7 retries, "
              "%.1f%% with 3 (expected 93.75%%), %.1f%% without" % (ok7 * 100, ok3 * 100, ok0 * 100))
        self.assertEqual(self.proxy.metric("weft_upstream_rq_retry_budget_exhausted_total",
                                           cluster="flaky"), 0)
        self.assertGreaterEqual(ok7, 0.99)
        self.assertAlmostEqual(ok3, 0.9375, delta=0.025)
        self.assertAlmostEqual(ok0, 0.5, delta=0.05)
        self.assertGreater(self.proxy.metric("weft_upstream_rq_retry_total", cluster="flaky"), 500)
        self.assertEqual(
            self.proxy.metric("weft_upstream_rq_retry_by_reason_total", cluster="flaky",
                              reason="status"),
            self.proxy.metric("weft_upstream_rq_retry_total", cluster="flaky"))

    def test_retry_budget_bounds_the_extra_load(self):
        before = self.dead.requests
        statuses = self.run_many("/status/503", 400, workers=40)
        upstream = self.dead.requests - before
        ratio = upstream / len(statuses)
        print("\n  every attempt failing, 40 concurrent clients: %d upstream requests for %d "
              "client requests (%.2fx; budget 20%%)" % (upstream, len(statuses), ratio))
        self.assertEqual(set(statuses), {503})
        self.assertLessEqual(ratio, 1.2 + 0.15)
        self.assertGreater(
            self.proxy.metric("weft_upstream_rq_retry_budget_exhausted_total", cluster="dead"), 0)

    def test_request_timeout_answers_504_on_time(self):
        def timed(_):
            start = time.monotonic()
            status = get(self.port, "/timeout")[0]
            return status, (time.monotonic() - start) * 1000
        before = self.proxy.metric("weft_upstream_rq_timeout_total", cluster="slow")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(timed, range(80)))
        latencies = sorted(ms for _, ms in results)
        pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
        print("\n  route timeout 300 ms, backend 1500 ms, 80 requests: 504 after p50 %.0f / "
              "p90 %.0f / p99 %.0f / max %.0f ms" % (pct(0.5), pct(0.9), pct(0.99), latencies[-1]))
        self.assertEqual({status for status, _ in results}, {504})
        self.assertGreaterEqual(latencies[0], 299)
        self.assertLess(pct(0.5), 300 + 50)  # loose: a loaded CI machine stretches the tail
        self.assertEqual(
            self.proxy.metric("weft_upstream_rq_timeout_total", cluster="slow") - before, 80)
        # The upstream requests were cancelled, not left running.
        self.assertEqual(self.proxy.metric("weft_upstream_rq_active", cluster="slow"), 0)

    def test_max_retries_caps_retries_in_flight_without_a_budget(self):
        # Envoy's rule: a threshold with max_retries and no retry_budget caps
        # the retries in flight at max_retries (here 1) instead of a budget.
        statuses = self.run_many("/capped", 300, workers=30)
        self.assertEqual(set(statuses), {503})
        retried = self.proxy.metric("weft_upstream_rq_retry_total", cluster="dead_capped")
        capped = self.proxy.metric("weft_upstream_rq_retry_overflow_total", cluster="dead_capped")
        print("\n  max_retries 1, 30 concurrent clients, 300 requests: %d retries, %d refused "
              "by max_retries" % (retried, capped))
        self.assertGreater(capped, 0)
        self.assertEqual(
            self.proxy.metric("weft_upstream_rq_retry_budget_exhausted_total",
                              cluster="dead_capped"), 0)
        # 3 retries each would be 900; one in flight at a time allows far fewer.
        self.assertLess(retried, 450)

    def test_per_try_timeout_moves_to_a_fast_endpoint(self):
        for _ in range(6):  # round robin: every other first attempt hits the slow endpoint
            start = time.time()
            status, body, _ = get(self.port, "/per-try")
            self.assertEqual((status, body), (200, b"fast"))
            self.assertLess(time.time() - start, 1.4)  # never waited for the slow one
        self.assertGreater(
            self.proxy.metric("weft_upstream_rq_per_try_timeout_total", cluster="slow_then_fast"), 0)

    def test_circuit_breaker_overflows_at_once_and_counts_exactly(self):
        before = self.proxy.metric("weft_upstream_rq_max_requests_overflow_total", cluster="hold")
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            results = list(pool.map(lambda _: (time.time(), get(self.port, "/hold")), range(20)))
        overflowed = [r for r in results if r[1][0] == 503]
        served = [r for r in results if r[1][0] == 200]
        self.assertEqual(len(served), 5)
        self.assertEqual(len(overflowed), 15)
        for _, (status, _, headers) in overflowed:
            self.assertEqual(headers.get("x-weft-overflow"), "true")
        after = self.proxy.metric("weft_upstream_rq_max_requests_overflow_total", cluster="hold")
        self.assertEqual(after - before, 15)

    def test_connection_and_pending_limits_hold_across_workers(self):
        # Two workers, 12 clients on their own connections (spread over both
        # workers by SO_REUSEPORT): at most 2 upstream connections and 6
        # waiting requests for the whole cluster, not per worker.
        before = self.proxy.metric("weft_upstream_rq_pending_overflow_total", cluster="pooled")
        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda _: get(self.port, "/pooled")[0], range(12)))
        overflowed = self.proxy.metric("weft_upstream_rq_pending_overflow_total",
                                       cluster="pooled") - before
        print("\n  max_connections 2, max_pending 6, 12 concurrent: %d served, %d overflowed, "
              "peak upstream connections %d" % (statuses.count(200), statuses.count(503),
                                                 self.pooled.peak_connections))
        # Counted per worker it would be 4 connections and 16 places for 12
        # requests. Cluster-wide: 2, plus one more only when a worker has no
        # connection of its own (as Envoy, so its queue cannot starve).
        self.assertLessEqual(self.pooled.peak_connections, 3)
        self.assertEqual(statuses.count(503), overflowed)
        self.assertEqual(statuses.count(200) + statuses.count(503), 12)
        self.assertGreaterEqual(overflowed, 3)  # at most 3 in service + 6 waiting

    def test_fault_abort_share_within_two_percent(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        aborted = 0
        for _ in range(10000):
            conn.request("GET", "/fault-abort")
            resp = conn.getresponse()
            body = resp.read()
            if resp.status == 503:
                self.assertEqual(body, b"fault filter abort\n")
                aborted += 1
        print("\n  fault abort 10%%: %d of 10,000 aborted (%.2f%%)" % (aborted, aborted / 100))
        self.assertAlmostEqual(aborted / 10000, 0.10, delta=0.02)

    def test_fault_delay(self):
        start = time.time()
        status, body, _ = get(self.port, "/fault-delay?p=0")
        self.assertEqual((status, body), (200, b"flaky"))
        self.assertGreaterEqual(time.time() - start, 0.19)

    def test_stale_keep_alive_connection_is_retried_on_a_fresh_one(self):
        # The app closes each connection right after answering; the proxy's
        # pooled connection is stale on the next request.
        for _ in range(30):
            status, body, _ = get(self.port, "/closer")
            self.assertEqual((status, body), (200, b"closer"))
            time.sleep(0.01)


if __name__ == "__main__":
    unittest.main()


MESH = """
apiVersion: v1
kind: Service
metadata: {name: flaky}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: faulty}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: three}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: flaky-1, labels: {kubernetes.io/service-name: flaky}}
addressType: IPv4
ports: [{name: http, port: %(flaky)d}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: faulty-1, labels: {kubernetes.io/service-name: faulty}}
addressType: IPv4
ports: [{name: http, port: %(flaky)d}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: three-1, labels: {kubernetes.io/service-name: three}}
addressType: IPv4
ports: [{name: http, port: %(port)d}]
endpoints:
- addresses: [127.0.50.1]
- addresses: [127.0.50.2]
- addresses: [127.0.50.3]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: flaky}
spec:
  parentRefs: [{kind: Service, name: flaky}]
  rules:
  - retry: {attempts: 7, codes: [503], backoff: 5ms}
    backendRefs: [{name: flaky, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: faulty
  annotations: {weft.dev/fault-abort: "20%% 503"}
spec:
  parentRefs: [{kind: Service, name: faulty}]
  rules:
  - backendRefs: [{name: faulty, port: 80}]
---
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: three}
spec:
  targetRef: {name: three}
  retryBudget: {percent: 100}
  outlierDetection: {consecutive5xx: 3, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 50}
"""


class ResilienceFromControlPlaneTest(unittest.TestCase):
    """The same behaviours, configured from YAML through weft-control."""

    def test_retries_faults_and_outlier_detection_from_yaml(self):
        import os
        import tempfile
        from harness import ControlPlane, xds_bootstrap
        flaky = Backend("flaky")
        port = free_port()
        three = [Backend("t1", host="127.0.50.1", port=port),
                 Backend("t2", host="127.0.50.2", port=port),
                 Backend("t3", host="127.0.50.3", port=port, fail_status=500)]
        d = tempfile.mkdtemp(prefix="weft-res-")
        config = os.path.join(d, "config")
        os.mkdir(config)
        with open(os.path.join(config, "mesh.yaml"), "w") as f:
            f.write(MESH % {"flaky": flaky.port, "port": port})
        control = ControlPlane(config)
        out = free_port()
        client = Proxy(xds_bootstrap("client-0.default", free_port(), control.xds_port,
                                     OUTBOUND_PORT=out)).wait_ready()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", out, timeout=10)

            def status(host, path="/"):
                conn.request("GET", path, headers={"Host": host})
                resp = conn.getresponse()
                resp.read()
                return resp.status

            ok = sum(status("flaky", "/flaky?p=50") == 200 for _ in range(1000))
            # 4,000 draws: the binomial sd of a 20% share is 0.63%, so +-3% is ~4.7 sd.
            aborted = sum(status("faulty") == 503 for _ in range(4000))
            for _ in range(12):
                status("three")
            clusters = client.admin("/clusters")[1]
            print("\n  from YAML: retried success %.1f%%, fault aborts %.1f%% (target 20%%)"
                  % (ok / 10, aborted / 40))
            self.assertGreaterEqual(ok, 990)
            self.assertAlmostEqual(aborted / 4000, 0.20, delta=0.03)
            self.assertIn("127.0.50.3:%d::health_flags::/failed_outlier_check" % port, clusters)
        finally:
            client.stop()
            control.stop()
            flaky.stop()
            for b in three:
                b.stop()
