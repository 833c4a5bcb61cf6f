"""HTTP/1.1 through weft-proxy: keep-alive, chunked, large streamed bodies,
100-continue, weighted splits, and every bad-input case, with curl and raw
sockets against real backends."""

import collections
import hashlib
import http.client
import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import (Backend, Proxy, bootstrap, free_port, http_listener, route_to,
                     static_cluster)


def curl(*args):
    return subprocess.run(["curl", "-sS", *args], capture_output=True, timeout=60)


class Http1Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.v1 = Backend("v1")
        cls.v2 = Backend("v2")
        cls.port = free_port()
        cls.admin_port = free_port()
        dead_port = free_port()  # nothing listens here
        vhosts = [
            {"name": "strict", "domains": ["only.example"],
             "routes": [{"match": {"path": "/exact"}, "route": {"cluster": "v1"}}]},
            {"name": "all", "domains": ["*"], "routes": [
                route_to("dead", "/dead"),
                {"match": {"prefix": "/split"},
                 "route": {"weighted_clusters": {"clusters": [
                     {"name": "v1", "weight": 90}, {"name": "v2", "weight": 10}]}}},
                {"match": {"prefix": "/", "headers": [{"name": "x-version",
                                                       "exact_match": "v2"}]},
                 "route": {"cluster": "v2"}},
                {"match": {"safe_regex": {"regex": "/re/[0-9]+"}},
                 "route": {"cluster": "v2"}},
                {"match": {"prefix": "/direct"},
                 "direct_response": {"status": 418, "body": {"inline_string": "teapot"}}},
                route_to("v1", "/", timeout="2s"),
            ]},
        ]
        cls.proxy = Proxy(bootstrap(
            [http_listener("ingress", cls.port, vhosts)],
            [static_cluster("v1", [cls.v1.port]), static_cluster("v2", [cls.v2.port]),
             static_cluster("dead", [dead_port], connect_timeout="0.5s")],
            cls.admin_port)).wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.v1.stop()
        cls.v2.stop()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def test_keep_alive_reuses_one_connection(self):
        before = self.proxy.metric("weft_downstream_cx_total", listener="ingress")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        for _ in range(20):
            conn.request("GET", "/hello")
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.read(), b"v1")
        conn.close()
        after = self.proxy.metric("weft_downstream_cx_total", listener="ingress")
        self.assertEqual(after - before, 1)

    def test_routing_by_header_regex_exact_and_direct_response(self):
        out = curl("-H", "x-version: v2", self.url("/any"))
        self.assertEqual(out.stdout, b"v2")
        self.assertEqual(curl(self.url("/re/123")).stdout, b"v2")
        self.assertEqual(curl(self.url("/re/abc")).stdout, b"v1")
        out = curl("-w", "%{http_code}", self.url("/direct"))
        self.assertEqual(out.stdout, b"teapot\n418")
        out = curl("-H", "Host: only.example", self.url("/exact"))
        self.assertEqual(out.stdout, b"v1")

    def test_no_route_is_404(self):
        out = curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: only.example",
                   self.url("/other"))
        self.assertEqual(out.stdout, b"404")

    def test_connect_failure_is_503(self):
        out = curl("-w", "\n%{http_code}", self.url("/dead"))
        body, code = out.stdout.rsplit(b"\n", 1)
        self.assertEqual(code, b"503")
        self.assertIn(b"connection failure", body)

    def test_connect_timeout_is_503(self):
        # A listener that never accepts, with its accept queue already full:
        # the kernel drops further SYNs, so the proxy's connect hangs.
        blackhole = socket.socket()
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(0)
        fillers = []
        try:
            for _ in range(3):
                f = socket.socket()
                f.setblocking(False)
                f.connect_ex(blackhole.getsockname())
                fillers.append(f)
            time.sleep(0.2)
            port, admin = free_port(), free_port()
            proxy = Proxy(bootstrap(
                [http_listener("t", port, [{"name": "a", "domains": ["*"],
                                            "routes": [route_to("hole")]}])],
                [static_cluster("hole", [blackhole.getsockname()[1]], connect_timeout="0.3s")],
                admin)).wait_ready()
            try:
                out = curl("-w", "\n%{http_code}", "http://127.0.0.1:%d/" % port)
                body, code = out.stdout.rsplit(b"\n", 1)
                self.assertEqual(code, b"503")
                self.assertIn(b"connection timeout", body)
            finally:
                proxy.stop()
        finally:
            for f in fillers:
                f.close()
            blackhole.close()

    def test_chunked_request_and_large_bodies_stream_both_ways(self):
        payload = os.urandom(8 * 1024 * 1024)
        with tempfile.NamedTemporaryFile() as f:
            f.write(payload)
            f.flush()
            out = curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@" + f.name,
                       self.url("/echo"))
        self.assertEqual(hashlib.sha256(out.stdout).hexdigest(),
                         hashlib.sha256(payload).hexdigest())
        size = 32 * 1024 * 1024
        out = curl(self.url("/big?bytes=%d" % size))
        self.assertEqual(len(out.stdout), size)
        self.assertEqual(out.stdout[:512], bytes(range(256)) * 2)

    def test_expect_100_continue(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"x" * 200000)
            f.flush()
            out = curl("-v", "-H", "Expect: 100-continue", "--data-binary", "@" + f.name,
                       self.url("/echo"))
        self.assertIn(b"HTTP/1.1 100 Continue", out.stderr)
        self.assertEqual(len(out.stdout), 200000)

    def test_head_has_no_body_and_keeps_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("HEAD", "/hello")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.read(), b"")
        conn.request("GET", "/hello")
        self.assertEqual(conn.getresponse().read(), b"v1")
        conn.close()

    def test_pipelined_requests_answered_in_order(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /a HTTP/1.1\r\nHost: x\r\nx-version: v2\r\n\r\n"
                      b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        bodies = [part.split(b"\r\n\r\n", 1)[1][:2] for part in data.split(b"HTTP/1.1 200")[1:]]
        self.assertEqual(bodies, [b"v1", b"v2", b"v1"])

    def test_malformed_request_is_400_and_closed(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
            data = s.recv(65536)
            self.assertTrue(data.startswith(b"HTTP/1.1 400"), data)
            self.assertEqual(s.recv(65536), b"")  # closed

    def test_oversized_headers_are_431(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nx-big: " + b"a" * 70000 + b"\r\n\r\n")
            data = s.recv(65536)
            self.assertTrue(data.startswith(b"HTTP/1.1 431"), data[:100])

    def test_upstream_reset_mid_response_resets_downstream(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"GET /reset HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        self.assertIn(b"200", head.split(b"\r\n")[0])
        self.assertLess(len(body), 100000)  # truncated: the client sees the failure
        # The proxy is still serving.
        self.assertEqual(curl(self.url("/ok")).stdout, b"v1")

    def test_route_timeout_is_504(self):
        start = time.time()
        out = curl("-o", "/dev/null", "-w", "%{http_code}", self.url("/delay?ms=4000"))
        self.assertEqual(out.stdout, b"504")
        self.assertLess(time.time() - start, 3.5)

    def test_weighted_split_within_two_percent(self):
        counts = collections.Counter()
        lock = threading.Lock()
        total, workers = 10000, 8

        def run(n):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            local = collections.Counter()
            for _ in range(n):
                conn.request("GET", "/split")
                local[conn.getresponse().read()] += 1
            conn.close()
            with lock:
                counts.update(local)

        threads = [threading.Thread(target=run, args=(total // workers,)) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sum(counts.values()), total)
        share_v2 = counts[b"v2"] / total
        print("\n  split over %d requests: v1=%d v2=%d (v2 share %.2f%%, target 10%%)"
              % (total, counts[b"v1"], counts[b"v2"], share_v2 * 100))
        self.assertAlmostEqual(share_v2, 0.10, delta=0.02)

    def test_admin_endpoints(self):
        status, body = self.proxy.admin("/config_dump")
        self.assertEqual(status, 200)
        self.assertIn('"static_resources"', body)
        status, body = self.proxy.admin("/clusters")
        self.assertIn("v1::127.0.0.1:%d::health_flags::healthy" % self.v1.port, body)
        status, body = self.proxy.admin("/stats/prometheus")
        self.assertIn("weft_upstream_rq_time_seconds_bucket", body)
        self.assertEqual(self.proxy.admin("/drain")[0], 405)  # GET is refused


if __name__ == "__main__":
    unittest.main()
