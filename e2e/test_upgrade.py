"""Upgrade (WebSocket) and CONNECT through weft-proxy: after the upstream
accepts, bytes flow unframed both ways until either side closes."""

import http.client
import os
import socket
import unittest

from harness import Backend, Proxy, bootstrap, free_port, http_listener, route_to, static_cluster


def read_until(sock, marker):
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


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
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n")
            head = read_until(s, b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
            s.sendall(b"\x00\x01binary\xff")
            self.assertEqual(read_until(s, b"\xff"), b"\x00\x01binary\xff")

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


if __name__ == "__main__":
    unittest.main()
