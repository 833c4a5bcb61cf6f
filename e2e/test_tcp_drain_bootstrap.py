"""Opaque TCP proxying (including server-speaks-first), drain with requests in
flight, and bootstrap errors that name the file, field and problem."""

import http.client
import subprocess
import os
import signal
import socket
import threading
import time
import unittest

from harness import (Backend, BannerBackend, Proxy, bootstrap, free_port, http_listener,
                     route_to, run_proxy_expect_failure, static_cluster, tcp_listener)


class TcpProxyTest(unittest.TestCase):
    def test_server_first_banner_and_echo(self):
        banner = BannerBackend()
        port, admin = free_port(), free_port()
        proxy = Proxy(bootstrap([tcp_listener("mysql_like", port, "db")],
                                [static_cluster("db", [banner.port])], admin)).wait_ready()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                # The server speaks first: nothing is sent before the banner.
                self.assertEqual(s.recv(100), b"220 weft-test ready\r\n")
                payload = os.urandom(1024 * 1024)
                threading.Thread(target=s.sendall, args=(payload,), daemon=True).start()
                received = b""
                while len(received) < len(payload):
                    chunk = s.recv(65536)
                    self.assertTrue(chunk)
                    received += chunk
                self.assertEqual(received, payload)
                # Half-close: our FIN reaches the backend, whose close reaches us.
                s.shutdown(socket.SHUT_WR)
                self.assertEqual(s.recv(100), b"")
            self.assertEqual(proxy.metric("weft_downstream_cx_total", listener="mysql_like"), 1)
        finally:
            proxy.stop()
            banner.stop()

    def test_idle_connection_closes_but_a_talking_one_does_not(self):
        banner = BannerBackend()
        port, admin = free_port(), free_port()
        listener = tcp_listener("idle", port, "db")
        listener["filter_chains"][0]["filters"][0]["typed_config"]["idle_timeout"] = "0.4s"
        proxy = Proxy(bootstrap([listener], [static_cluster("db", [banner.port])],
                                admin)).wait_ready()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as quiet, \
                    socket.create_connection(("127.0.0.1", port), timeout=5) as talking:
                for s in (quiet, talking):
                    self.assertEqual(s.recv(100), b"220 weft-test ready\r\n")
                # 1.2 s, three idle timeouts: one byte echoed every 150 ms keeps
                # `talking` open; `quiet` says nothing and is closed.
                for i in range(8):
                    talking.sendall(b"%d" % i)
                    self.assertEqual(talking.recv(10), b"%d" % i)
                    time.sleep(0.15)
                self.assertEqual(quiet.recv(100), b"")
                talking.sendall(b"z")
                self.assertEqual(talking.recv(10), b"z")
            self.assertEqual(proxy.metric("weft_downstream_rq_timeout_total", listener="idle"), 1)
        finally:
            proxy.stop()
            banner.stop()

    def test_unreachable_upstream_closes_client(self):
        port, admin = free_port(), free_port()
        proxy = Proxy(bootstrap([tcp_listener("t", port, "gone")],
                                [static_cluster("gone", [free_port()])], admin)).wait_ready()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                self.assertEqual(s.recv(100), b"")
        finally:
            proxy.stop()


class DrainTest(unittest.TestCase):
    def test_sigterm_finishes_in_flight_requests_and_exits_zero(self):
        be = Backend("slow")
        port, admin = free_port(), free_port()
        proxy = Proxy(bootstrap([http_listener("in", port, [{"name": "all", "domains": ["*"],
                                                             "routes": [route_to("slow")]}])],
                                [static_cluster("slow", [be.port])], admin),
                      extra_args=("--drain-time-s", "10")).wait_ready()
        results = []

        def request():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            conn.request("GET", "/delay?ms=1500")
            resp = conn.getresponse()
            results.append((resp.status, resp.read(), resp.getheader("connection")))

        threads = [threading.Thread(target=request) for _ in range(10)]
        for t in threads:
            t.start()
        time.sleep(0.5)  # all ten are now in flight at the backend
        proxy.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        # Listeners are closed: new connections are refused.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).recv(1)
        for t in threads:
            t.join()
        self.assertEqual(proxy.proc.wait(15), 0)
        self.assertEqual(len(results), 10)
        for status, body, connection in results:
            self.assertEqual((status, body), (200, b"slow"))
            self.assertEqual(connection, "close")
        be.stop()

    def test_post_drain_on_admin(self):
        be = Backend("b")
        port, admin = free_port(), free_port()
        proxy = Proxy(bootstrap([http_listener("in", port, [{"name": "all", "domains": ["*"],
                                                             "routes": [route_to("b")]}])],
                                [static_cluster("b", [be.port])], admin)).wait_ready()
        # An idle keep-alive client must not hold the drain up.
        idle = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        idle.request("GET", "/")
        self.assertEqual(idle.getresponse().read(), b"b")
        self.assertEqual(proxy.admin("/quitquitquit", method="POST")[0], 200)
        self.assertEqual(proxy.proc.wait(10), 0)
        be.stop()


GOOD_YAML = """
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: %(admin)d}}
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: %(port)d}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: l
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                route: {cluster: %(cluster)s}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: c
    connect_timeout: 1s
    type: STATIC
    %(extra)s
    load_assignment:
      cluster_name: c
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %(backend)d}}}
"""


class BootstrapTest(unittest.TestCase):
    def render(self, **kw):
        values = {"admin": free_port(), "port": free_port(), "cluster": "c", "extra": "",
                  "backend": free_port()}
        values.update(kw)
        return GOOD_YAML % values

    def test_envoy_style_yaml_bootstrap_serves(self):
        be = Backend("yaml")
        values = {"admin": free_port(), "port": free_port()}
        proxy = Proxy(self.render(backend=be.port, **values))
        proxy.admin_port = values["admin"]
        proxy.wait_ready()
        conn = http.client.HTTPConnection("127.0.0.1", values["port"], timeout=5)
        conn.request("GET", "/")
        self.assertEqual(conn.getresponse().read(), b"yaml")
        proxy.stop()
        be.stop()

    def test_the_proxy_runs_with_its_malloc_tunables(self):
        """It re-executes itself once with glibc.malloc.tcache_count raised (same pid),
        and leaves a GLIBC_TUNABLES that already names it as it is. (Read from the raw
        environment block: glibc splits the variable at its colons in place.)"""
        for env, present, absent in (
                (None, [b"GLIBC_TUNABLES=glibc.malloc.tcache_count=256"], []),
                ({"GLIBC_TUNABLES": "glibc.malloc.tcache_count=32"},
                 [b"GLIBC_TUNABLES=glibc.malloc.tcache_count=32"], [b"tcache_count=256"]),
                ({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"},
                 [b"GLIBC_TUNABLES=glibc.malloc.arena_max=2", b"glibc.malloc.tcache_count=256"],
                 [])):
            values = {"admin": free_port(), "port": free_port()}
            proxy = Proxy(self.render(**values), env=env)
            proxy.admin_port = values["admin"]
            try:
                proxy.wait_ready()
                with open("/proc/%d/environ" % proxy.proc.pid, "rb") as f:
                    block = f.read()
                for piece in present:
                    self.assertIn(piece, block)
                for piece in absent:
                    self.assertNotIn(piece, block)
            finally:
                proxy.stop()

    def test_unknown_field_is_rejected_by_name(self):
        code, out, path = run_proxy_expect_failure(self.render(extra="dns_refresh_rate: 5s"))
        self.assertEqual(code, 1)
        self.assertIn(path, out)
        self.assertIn("dns_refresh_rate", out)

    def test_unknown_cluster_is_named(self):
        code, out, path = run_proxy_expect_failure(self.render(cluster="nope"))
        self.assertEqual(code, 1)
        self.assertIn("unknown cluster 'nope'", out)
        self.assertIn("routes[0].route.cluster", out)

    def test_unimplemented_field_is_named(self):
        code, out, _ = run_proxy_expect_failure(self.render(extra="lb_policy: RANDOM"))
        self.assertEqual(code, 1)
        self.assertIn("static_resources.clusters[0].lb_policy", out)

    def test_malformed_yaml_names_the_line(self):
        code, out, path = run_proxy_expect_failure("admin: [unclosed\n")
        self.assertEqual(code, 1)
        self.assertIn(path, out)
        self.assertIn("line", out)

    def test_missing_file(self):
        code, out, _ = run_proxy_expect_failure("")
        self.assertEqual(code, 1)


if __name__ == "__main__":
    unittest.main()


class ProtocolDetectionTest(unittest.TestCase):
    """One listener, http_inspector: HTTP/1 and h2c go to the HTTP connection
    manager, anything else (and clients that say nothing) to the TCP proxy."""

    @classmethod
    def setUpClass(cls):
        import harness
        cls.web = Backend("web")
        cls.banner = BannerBackend()
        cls.port, cls.opaque_port, admin = free_port(), free_port(), free_port()
        http_chain = http_listener("x", cls.port, [{"name": "all", "domains": ["*"],
                                                    "routes": [route_to("web")]}])["filter_chains"][0]
        http_chain["filter_chain_match"] = {"application_protocols": ["http/1.1", "h2c"]}
        tcp_chain = tcp_listener("x", cls.port, "banner")["filter_chains"][0]
        detecting = {"name": "detect", "address": harness.socket_address(cls.port),
                     "listener_filters": [{"name": "envoy.filters.listener.http_inspector"}],
                     "listener_filters_timeout": "0.2s",
                     "filter_chains": [http_chain, tcp_chain]}
        opaque_chain = dict(tcp_chain)
        opaque_chain["filter_chain_match"] = {"destination_port": cls.opaque_port}
        opaque = {"name": "opaque", "address": harness.socket_address(cls.opaque_port),
                  "listener_filters": [{"name": "envoy.filters.listener.http_inspector"}],
                  "listener_filters_timeout": "30s",
                  "filter_chains": [http_chain, opaque_chain]}
        cls.proxy = Proxy(bootstrap([detecting, opaque],
                                    [static_cluster("web", [cls.web.port]),
                                     static_cluster("banner", [cls.banner.port])],
                                    admin)).wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.web.stop()
        cls.banner.stop()

    def test_http1_is_detected(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        conn.request("GET", "/")
        self.assertEqual(conn.getresponse().read(), b"web")

    def test_h2c_is_detected(self):
        out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-w", " %{http_version}",
                              "http://127.0.0.1:%d/" % self.port], capture_output=True, timeout=10)
        self.assertEqual(out.stdout, b"web 2")

    def test_silent_client_gets_server_first_banner(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            self.assertEqual(s.recv(100), b"220 weft-test ready\r\n")
            s.sendall(b"QUIT\r\n")
            self.assertEqual(s.recv(100), b"QUIT\r\n")

    def test_non_http_client_bytes_reach_tcp_backend(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"\x16\x03\x01binary-hello")
            data = b""
            while len(data) < len(b"220 weft-test ready\r\n\x16\x03\x01binary-hello"):
                chunk = s.recv(100)
                self.assertTrue(chunk)
                data += chunk
            self.assertEqual(data, b"220 weft-test ready\r\n\x16\x03\x01binary-hello")

    def test_opaque_port_skips_detection(self):
        # The inspect timeout on this listener is 30 s: a banner that arrives
        # within the 5 s socket timeout proves detection was skipped.
        with socket.create_connection(("127.0.0.1", self.opaque_port), timeout=5) as s:
            self.assertEqual(s.recv(100), b"220 weft-test ready\r\n")


class IdleTimeoutTest(unittest.TestCase):
    def test_idle_downstream_connection_closes_but_busy_one_does_not(self):
        be = Backend("b")
        port, admin = free_port(), free_port()
        proxy = Proxy(bootstrap(
            [http_listener("in", port, [{"name": "all", "domains": ["*"],
                                         "routes": [route_to("b")]}],
                           common_http_protocol_options={"idle_timeout": "0.5s"})],
            [static_cluster("b", [be.port])], admin)).wait_ready()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                # A request longer than the idle timeout is not cut off...
                s.sendall(b"GET /delay?ms=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
                data = b""
                while not data.endswith(b"\r\n\r\nb"):  # headers and body may come apart
                    chunk = s.recv(65536)
                    self.assertTrue(chunk, data)
                    data += chunk
                self.assertTrue(data.startswith(b"HTTP/1.1 200"))
                # ...but the connection, idle afterwards, is closed by the proxy.
                start = time.time()
                self.assertEqual(s.recv(65536), b"")
                self.assertLess(time.time() - start, 3)
        finally:
            proxy.stop()
            be.stop()
