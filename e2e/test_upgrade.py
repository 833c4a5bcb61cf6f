"""Upgrade (WebSocket) and CONNECT through weft-proxy: after the upstream
accepts, bytes flow unframed both ways until either side closes."""

import http.client
import json
import os
import socket
import unittest

from harness import (Backend, Proxy, bootstrap, free_port, http_listener, route_to,
                     run_proxy_expect_failure, static_cluster)


def read_until(sock, marker):
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def connect_and_echo(test, port):
    """A CONNECT through the proxy at `port` to the echoing backend: 200, then raw bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n")
        head = read_until(s, b"\r\n\r\n")
        test.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        s.sendall(b"\x00\x01binary\xff")
        test.assertEqual(read_until(s, b"\xff"), b"\x00\x01binary\xff")


class UpgradeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.be = Backend("ws")
        cls.port, cls.plain_port, admin = free_port(), free_port(), free_port()
        routes = [{"match": {"connect_matcher": {}}, "route": {"cluster": "be"}}, route_to("be")]
        vhosts = [{"name": "all", "domains": ["*"], "routes": routes}]
        cls.proxy = Proxy(bootstrap(
            [http_listener("up", cls.port, vhosts,
                           upgrade_configs=[{"upgrade_type": "websocket"},
                                            {"upgrade_type": "CONNECT"}]),
             http_listener("plain", cls.plain_port, vhosts)],
            [static_cluster("be", [cls.be.port])], admin)).wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.be.stop()

    def test_websocket_upgrade_tunnels_bytes(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")
            head = read_until(s, b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
            self.assertIn(b"upgrade: websocket", head.lower())
            payload = os.urandom(300000)
            s.sendall(payload)
            echoed = head.split(b"\r\n\r\n", 1)[1]
            while len(echoed) < len(payload):
                chunk = s.recv(65536)
                self.assertTrue(chunk)
                echoed += chunk
            self.assertEqual(echoed, payload)
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(s.recv(100), b"")  # the tunnel closes end to end

    def test_connect_tunnels_bytes(self):
        connect_and_echo(self, self.port)

    def test_upgrade_not_enabled_is_served_as_plain_http(self):
        # curl sends "Upgrade: h2c" with --http2 over cleartext; unless enabled,
        # the request is served as ordinary HTTP/1.1.
        conn = http.client.HTTPConnection("127.0.0.1", self.plain_port, timeout=5)
        conn.request("GET", "/", headers={"Upgrade": "h2c", "Connection": "Upgrade, HTTP2-Settings"})
        resp = conn.getresponse()
        self.assertEqual((resp.status, resp.read()), (200, b"ws"))

    def test_connect_not_enabled_is_refused(self):
        with socket.create_connection(("127.0.0.1", self.plain_port), timeout=10) as s:
            s.sendall(b"CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n")
            self.assertTrue(read_until(s, b"\r\n\r\n").startswith(b"HTTP/1.1 405"))


class UpgradeOverHttp2Test(unittest.TestCase):
    """client -HTTP/1.1-> front -HTTP/2-> back -HTTP/1.1-> app: the sidecar pair's
    shape. The upgrade crosses the HTTP/2 hop as an RFC 8441 extended CONNECT
    (CONNECT as an RFC 9113 CONNECT), one stream of one shared connection."""

    @classmethod
    def setUpClass(cls):
        cls.be = Backend("ws")
        cls.port, cls.back_port = free_port(), free_port()
        upgrades = [{"upgrade_type": "websocket"}, {"upgrade_type": "CONNECT"}]

        def vhosts(cluster):
            return [{"name": "all", "domains": ["*"], "routes": [
                {"match": {"connect_matcher": {}}, "route": {"cluster": cluster}},
                route_to(cluster)]}]
        cls.back = Proxy(bootstrap(
            [http_listener("back", cls.back_port, vhosts("be"), upgrade_configs=upgrades,
                           http2_protocol_options={"allow_connect": True})],
            [static_cluster("be", [cls.be.port])], free_port())).wait_ready()
        cls.front = Proxy(bootstrap(
            [http_listener("front", cls.port, vhosts("hop"), upgrade_configs=upgrades)],
            [static_cluster("hop", [cls.back_port],
                            http2_protocol_options={"allow_connect": True})],
            free_port())).wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.front.stop()
        cls.back.stop()
        cls.be.stop()

    def open_websocket(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        head = read_until(s, b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        self.assertIn(b"upgrade: websocket", head.lower())
        self.assertIn(b"x-backend: ws", head.lower())  # the app's own 101 headers pass
        return s, head.split(b"\r\n\r\n", 1)[1]

    def test_websockets_share_one_http2_connection_and_tunnel_bytes_both_ways(self):
        before = self.back.metric("weft_downstream_cx_total", listener="back")
        a, rest_a = self.open_websocket()
        b, rest_b = self.open_websocket()
        with a, b:
            payload = os.urandom(300000)  # past the HTTP/2 stream window's first grant
            a.sendall(payload)
            b.sendall(b"second")
            self.assertEqual(rest_b + read_until(b, b"second"), b"second")
            echoed = rest_a
            while len(echoed) < len(payload):
                chunk = a.recv(65536)
                self.assertTrue(chunk)
                echoed += chunk
            self.assertEqual(echoed, payload)
            a.shutdown(socket.SHUT_WR)
            self.assertEqual(a.recv(100), b"")  # the half-close crosses both hops
            b.sendall(b"still-up")
            self.assertEqual(read_until(b, b"still-up"), b"still-up")
        # Both tunnels were streams of one HTTP/2 connection between the proxies.
        self.assertLessEqual(self.back.metric("weft_downstream_cx_total", listener="back") - before,
                             1)

    def test_connect_crosses_the_http2_hop(self):
        connect_and_echo(self, self.port)

    def test_http2_settings_weft_does_not_take_are_errors(self):
        port = free_port()
        config = bootstrap(
            [http_listener("l", port, [{"name": "all", "domains": ["*"],
                                        "routes": [route_to("c")]}],
                           http2_protocol_options={"max_concurrent_streams": 10})],
            [static_cluster("c", [port])], free_port())
        code, output, _ = run_proxy_expect_failure(json.dumps(config), suffix=".json")
        self.assertNotEqual(code, 0)
        self.assertIn("http2_protocol_options.max_concurrent_streams: not supported by weft",
                      output)


if __name__ == "__main__":
    unittest.main()
