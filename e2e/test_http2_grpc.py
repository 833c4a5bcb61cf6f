"""HTTP/2 (h2c, prior knowledge) and gRPC through weft-proxy: curl and h2load
downstream, HTTP/1 and HTTP/2 upstreams, gRPC unary, bidirectional streaming
and error statuses (trailers) with a grpc++ client and server built here."""

import hashlib
import os
import re
import subprocess
import tempfile
import unittest

from harness import (ROOT, Backend, Proxy, bootstrap, free_port, http_listener, route_to,
                     static_cluster)

GRPC_DIR = os.path.join(ROOT, "bazel-bin/e2e/grpc")
H2_OPTIONS = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
    "explicit_http_config": {"http2_protocol_options": {}}}}


def start_grpc_server(name, *extra):
    port = free_port()
    proc = subprocess.Popen([os.path.join(GRPC_DIR, "echo_server"), "--port", str(port),
                             "--name", name, *extra], stdout=subprocess.PIPE)
    proc.stdout.readline()  # "listening"
    return proc, port


def grpc_client(port, *args):
    out = subprocess.run([os.path.join(GRPC_DIR, "echo_client"), "--target",
                          "127.0.0.1:%d" % port, *args], capture_output=True, text=True,
                         timeout=60)
    return out.stdout


class Http2GrpcTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h1 = Backend("h1")
        cls.grpc_a, cls.grpc_a_port = start_grpc_server("grpc-a")
        cls.grpc_b, cls.grpc_b_port = start_grpc_server("grpc-b")
        cls.grpc_flaky, cls.grpc_flaky_port = start_grpc_server("flaky", "--fail-every", "2")
        cls.port, cls.admin = free_port(), free_port()
        echo = "/weft.test.Echo/"
        vhosts = [{"name": "all", "domains": ["*"], "routes": [
            {"match": {"prefix": echo, "headers": [{"name": "x-flaky", "exact_match": "retry"}]},
             "route": {"cluster": "grpc_flaky",
                       "retry_policy": {"retry_on": "unavailable", "num_retries": 2}}},
            {"match": {"prefix": echo, "headers": [{"name": "x-flaky", "exact_match": "plain"}]},
             "route": {"cluster": "grpc_flaky"}},
            {"match": {"prefix": echo, "headers": [{"name": "x-deadline", "present_match": True}]},
             "route": {"cluster": "grpc_a", "timeout": "1s"}},
            {"match": {"prefix": "/weft.test.Echo/", "headers": [
                {"name": "x-split", "present_match": True}]},
             "route": {"weighted_clusters": {"clusters": [
                 {"name": "grpc_a", "weight": 50}, {"name": "grpc_b", "weight": 50}]}}},
            {"match": {"prefix": "/weft.test.Echo/", "grpc": {}}, "route": {"cluster": "grpc_a"}},
            route_to("h1"),
        ]}]
        cls.proxy = Proxy(bootstrap(
            [http_listener("mixed", cls.port, vhosts)],
            [static_cluster("h1", [cls.h1.port]),
             static_cluster("grpc_a", [cls.grpc_a_port],
                            typed_extension_protocol_options=H2_OPTIONS),
             static_cluster("grpc_b", [cls.grpc_b_port],
                            typed_extension_protocol_options=H2_OPTIONS),
             static_cluster("grpc_flaky", [cls.grpc_flaky_port],
                            typed_extension_protocol_options=H2_OPTIONS)],
            cls.admin)).wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        for proc in (cls.grpc_a, cls.grpc_b, cls.grpc_flaky):
            proc.kill()
            proc.wait()
        cls.h1.stop()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def test_h2c_downstream_to_http1_upstream(self):
        out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-w", " %{http_version}",
                              self.url("/hello")], capture_output=True, timeout=30)
        self.assertEqual(out.stdout, b"h1 2")

    def test_h2c_large_bodies_respect_flow_control(self):
        payload = os.urandom(8 * 1024 * 1024)
        with tempfile.NamedTemporaryFile() as f:
            f.write(payload)
            f.flush()
            out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "--data-binary",
                                  "@" + f.name, self.url("/echo")], capture_output=True,
                                 timeout=60)
        self.assertEqual(hashlib.sha256(out.stdout).hexdigest(),
                         hashlib.sha256(payload).hexdigest())
        size = 16 * 1024 * 1024
        out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge",
                              self.url("/big?bytes=%d" % size)], capture_output=True, timeout=60)
        self.assertEqual(len(out.stdout), size)

    def test_h2load_multiplexed_streams_all_succeed(self):
        out = subprocess.run(["h2load", "-n", "2000", "-c", "4", "-m", "16", self.url("/hello")],
                             capture_output=True, text=True, timeout=120)
        match = re.search(r"status codes: (\d+) 2xx", out.stdout)
        self.assertIsNotNone(match, out.stdout)
        self.assertEqual(int(match.group(1)), 2000, out.stdout)

    def test_grpc_unary(self):
        self.assertEqual(grpc_client(self.port, "--count", "200").strip(), "200 ok grpc-a")

    def test_grpc_error_status_travels_in_trailers(self):
        self.assertEqual(grpc_client(self.port, "--count", "3", "--fail-with", "14").strip(),
                         "3 error 14 asked to fail")

    def test_grpc_weighted_split(self):
        lines = dict(reversed(line.split(" ", 1))
                     for line in grpc_client(self.port, "--count", "2000", "--split", "1")
                     .strip().splitlines())
        a, b = int(lines.get("ok grpc-a", 0)), int(lines.get("ok grpc-b", 0))
        self.assertEqual(a + b, 2000, lines)
        self.assertAlmostEqual(a / 2000, 0.5, delta=0.05)

    def test_grpc_unavailable_is_retried_per_policy(self):
        # The server fails every second call with UNAVAILABLE.
        self.assertEqual(grpc_client(self.port, "--count", "100", "--header", "x-flaky=retry")
                         .strip(), "100 ok flaky")
        plain = grpc_client(self.port, "--count", "100", "--header", "x-flaky=plain")
        self.assertIn("50 error 14", plain)

    def test_grpc_deadline_is_capped_by_the_route_and_propagated(self):
        out = grpc_client(self.port, "--count", "1", "--deadline-ms", "5000", "--header",
                          "x-deadline=1", "--show-deadline", "1")
        seen = int(out.split("deadline seen by the server: ")[1].split()[0])
        self.assertLessEqual(seen, 1000)  # the route's 1 s, not the client's 5 s
        self.assertGreater(seen, 500)
        out = grpc_client(self.port, "--count", "1", "--deadline-ms", "5000", "--delay-ms",
                          "2000", "--header", "x-deadline=1")
        self.assertIn("error 4", out)  # DEADLINE_EXCEEDED from the proxy after 1 s

    def test_grpc_bidirectional_streaming(self):
        self.assertEqual(grpc_client(self.port, "--mode", "bidi", "--count", "500").strip(),
                         "bidi ok 500 grpc-a")


if __name__ == "__main__":
    unittest.main()
