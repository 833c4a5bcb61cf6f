"""What the proxy answers itself, and why: every local reply carries one of
Envoy's response flags (weft_downstream_rq_response_flags_total), and a gRPC
request gets a trailers-only gRPC answer whose grpc-status says what
happened, not an HTTP error page a gRPC client cannot read."""

import http.client
import unittest

from harness import (Backend, Proxy, bootstrap, free_port, http_listener, static_cluster)
from hostile import H2Client

FAULT_TYPE = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"


class LocalRepliesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Backend("app", delay_ms=0)
        cls.slow = Backend("slow", delay_ms=2000)
        dead = free_port()  # nothing listens there
        cls.port = free_port()
        retry = {"retry_on": "connect-failure", "num_retries": 2,
                 "retry_back_off": {"base_interval": "0.005s"}}
        routes = [
            {"match": {"prefix": "/dead"}, "route": {"cluster": "dead", "retry_policy": retry}},
            {"match": {"prefix": "/empty"}, "route": {"cluster": "empty"}},
            {"match": {"prefix": "/slow"}, "route": {"cluster": "slow", "timeout": "0.3s"}},
            {"match": {"prefix": "/fault"}, "route": {"cluster": "app"},
             "typed_per_filter_config": {"envoy.filters.http.fault": {
                 "@type": FAULT_TYPE,
                 "abort": {"http_status": 503,
                           "percentage": {"numerator": 100, "denominator": "HUNDRED"}}}}},
            {"match": {"prefix": "/ok"}, "route": {"cluster": "app"}},
        ]
        empty = static_cluster("empty", [])
        cls.proxy = Proxy(bootstrap(
            [http_listener("in", cls.port, [{"name": "all", "domains": ["app"], "routes": routes}],
                           http_filters=[
                               {"name": "envoy.filters.http.fault",
                                "typed_config": {"@type": FAULT_TYPE}},
                               {"name": "envoy.filters.http.router", "typed_config": {
                                   "@type": "type.googleapis.com/envoy.extensions.filters.http."
                                            "router.v3.Router"}}])],
            [static_cluster("app", [cls.app.port]), static_cluster("slow", [cls.slow.port]),
             static_cluster("dead", [dead]), empty], free_port()), concurrency=1).wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.app.stop()
        cls.slow.stop()

    def http1(self, path, host="app"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp.status, body

    def flags(self, flag):
        return self.proxy.metric("weft_downstream_rq_response_flags_total", listener="in", flag=flag)

    CASES = [
        # path, host, HTTP status, flags, grpc-status
        ("/nothing", "other", 404, ["NR"], 12),       # UNIMPLEMENTED
        ("/empty", "app", 503, ["UH"], 14),           # UNAVAILABLE
        ("/dead", "app", 503, ["UF", "URX"], 14),
        ("/slow", "app", 504, ["UT"], 4),             # DEADLINE_EXCEEDED
        ("/fault", "app", 503, ["FI"], 14),
    ]

    def test_each_local_reply_carries_its_flag_over_http1(self):
        for path, host, status, flags, _ in self.CASES:
            with self.subTest(path=path):
                before = {f: self.flags(f) for f in flags}
                got, _ = self.http1(path, host)
                self.assertEqual(got, status)
                for f in flags:
                    self.assertEqual(self.flags(f), before[f] + 1, f)
        ok_before = sum(self.flags(f) for f in ("UH", "NR", "UF", "UT", "FI"))
        self.assertEqual(self.http1("/ok")[0], 200)
        self.assertEqual(sum(self.flags(f) for f in ("UH", "NR", "UF", "UT", "FI")),
                         ok_before, "a normal response carries no flag")

    def test_a_grpc_request_gets_a_grpc_status(self):
        c = H2Client(self.port)
        try:
            for path, host, _, flags, grpc_status in self.CASES:
                with self.subTest(path=path):
                    sid = c.request(path, method="POST", authority=host,
                                    extra=[("content-type", "application/grpc"), ("te", "trailers")])
                    self.assertTrue(c.pump(c.ended(sid), timeout=10))
                    headers = c.responses[sid]["headers"]
                    self.assertEqual(headers[":status"], "200", headers)
                    self.assertEqual(int(headers["grpc-status"]), grpc_status, headers)
                    self.assertTrue(headers.get("grpc-message"), headers)
                    self.assertEqual(c.responses[sid]["data"], b"", "trailers-only")
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
