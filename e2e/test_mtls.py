"""Mutual TLS between two weft-proxies with real certificates (made by
tools/certgen, the CA's own signing code): SPIFFE identities checked both
ways, x-forwarded-client-cert to the app, and every refusal (plaintext, a
foreign CA, an expired certificate, no certificate, the wrong identity)
counted by reason."""

import http.client
import json
import os
import shutil
import socket
import ssl
import tempfile
import unittest

from harness import (H2_OPTIONS, Backend, Pki, Proxy, bootstrap, downstream_tls, free_port,
                     http_listener, static_cluster, upstream_tls)

TD = "spiffe://cluster.local"
SERVER_ID = TD + "/ns/shop/sa/cart"
CLIENT_ID = TD + "/ns/web/sa/frontend"


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


class MutualTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="weft-mtls-")
        cls.pki = Pki(cls.dir, "mesh-root")
        cls.other = Pki(cls.dir, "other-root")
        cls.server_cert = cls.pki.issue("server", SERVER_ID)
        cls.client_cert = cls.pki.issue("client", CLIENT_ID)
        cls.foreign_cert = cls.other.issue("foreign", CLIENT_ID)
        cls.expired_cert = cls.pki.issue("expired", CLIENT_ID, lifetime_s=-60, not_before_s=-7200)
        cls.backend = Backend("app")

        cls.inbound_port, inbound_admin = free_port(), free_port()
        inbound = http_listener(
            "inbound", cls.inbound_port,
            [{"name": "app", "domains": ["*"],
              "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "app"}}]}],
            forward_client_cert_details="SANITIZE_SET",
            set_current_client_cert_details={"uri": True})
        inbound["filter_chains"][0]["transport_socket"] = downstream_tls(
            cert=cls.server_cert[0], key=cls.server_cert[1], ca=cls.pki.ca_cert,
            alpn=["h2", "http/1.1"])
        cls.inbound = Proxy(bootstrap([inbound], [static_cluster("app", [cls.backend.port])],
                                      inbound_admin)).wait_ready()

        cls.outbound_port, outbound_admin = free_port(), free_port()
        client_tls = dict(cert=cls.client_cert[0], key=cls.client_cert[1], ca=cls.pki.ca_cert)
        routes = [
            {"match": {"prefix": "/h2/"}, "route": {"cluster": "meshed_h2", "prefix_rewrite": "/"}},
            {"match": {"prefix": "/wrong-id/"},
             "route": {"cluster": "wrong_identity", "prefix_rewrite": "/"}},
            {"match": {"prefix": "/"}, "route": {"cluster": "meshed"}},
        ]
        clusters = [
            static_cluster("meshed", [cls.inbound_port], transport_socket=upstream_tls(
                peer_uris=[SERVER_ID], alpn=["http/1.1"], **client_tls)),
            static_cluster("meshed_h2", [cls.inbound_port], transport_socket=upstream_tls(
                peer_uris=[SERVER_ID], alpn=["h2"], **client_tls),
                           typed_extension_protocol_options=H2_OPTIONS),
            static_cluster("wrong_identity", [cls.inbound_port], transport_socket=upstream_tls(
                peer_uris=[TD + "/ns/shop/sa/someone-else"], **client_tls)),
        ]
        cls.outbound = Proxy(bootstrap(
            [http_listener("outbound", cls.outbound_port,
                           [{"name": "all", "domains": ["*"], "routes": routes}])],
            clusters, outbound_admin)).wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.outbound.stop()
        cls.inbound.stop()
        cls.backend.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def failures(self, reason, side="server"):
        proxy = self.inbound if side == "server" else self.outbound
        return proxy.metric("weft_tls_handshake_failures_total", side=side, reason=reason)

    def direct(self, cert=None, alpn=None):
        """A TLS client of our own straight to the inbound listener."""
        context = ssl.create_default_context(cafile=self.pki.ca_cert)
        context.check_hostname = False  # SPIFFE certificates name workloads, not hosts
        if cert:
            context.load_cert_chain(*cert)
        if alpn:
            context.set_alpn_protocols(alpn)
        raw = socket.create_connection(("127.0.0.1", self.inbound_port), timeout=5)
        return context.wrap_socket(raw)

    def request_over(self, sock):
        sock.sendall(b"GET /headers HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk

    def test_mtls_between_sidecars_carries_both_identities(self):
        status, body = get(self.outbound_port, "/headers")
        self.assertEqual(status, 200)
        headers = json.loads(body)
        xfcc = headers["x-forwarded-client-cert"]
        self.assertTrue(xfcc.startswith("By=%s;Hash=" % SERVER_ID), xfcc)
        self.assertTrue(xfcc.endswith(";URI=%s" % CLIENT_ID), xfcc)
        self.assertGreater(self.inbound.metric("weft_tls_handshakes_total", side="server"), 0)
        self.assertGreater(self.outbound.metric("weft_tls_handshakes_total", side="client"), 0)

    def test_http2_over_mtls_with_alpn(self):
        for _ in range(20):
            status, body = get(self.outbound_port, "/h2/anything")
            self.assertEqual((status, body), (200, b"app"))
        with self.direct(self.client_cert, alpn=["h2", "http/1.1"]) as sock:
            self.assertEqual(sock.selected_alpn_protocol(), "h2")
            self.assertEqual(sock.version(), "TLSv1.3")

    def test_a_client_cannot_forge_the_client_cert_header(self):
        with self.direct(self.client_cert) as sock:
            sock.sendall(b"GET /headers HTTP/1.1\r\nHost: app\r\nConnection: close\r\n"
                         b"x-forwarded-client-cert: URI=spiffe://cluster.local/ns/kube-system/sa/admin\r\n\r\n")
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        body = json.loads(data.split(b"\r\n\r\n", 1)[1])
        self.assertNotIn("kube-system", body["x-forwarded-client-cert"])
        self.assertTrue(body["x-forwarded-client-cert"].endswith("URI=" + CLIENT_ID))
        self.assertEqual(body["x-forwarded-proto"], "https")  # this hop was TLS

    def test_the_proxy_says_which_tls_library_it_runs_on(self):
        # tools/test runs these tests against both builds and says which it
        # gave (WEFT_PROXY_TLS); a mislinked binary fails here, not silently.
        expected = os.environ.get("WEFT_PROXY_TLS", "BoringSSL")
        text = self.inbound.admin("/stats/prometheus")[1]
        line = [l for l in text.splitlines() if l.startswith("weft_build_info{")]
        self.assertEqual(len(line), 1, text[-2000:])
        self.assertIn('tls_library="%s' % expected, line[0])
        self.assertTrue(line[0].endswith(" 1"), line[0])
        self.assertIn("(%s" % expected, self.inbound.output())  # the startup line

    def test_strict_refuses_plaintext(self):
        before = self.failures("not_tls")
        with socket.create_connection(("127.0.0.1", self.inbound_port), timeout=5) as sock:
            sock.sendall(b"GET /headers HTTP/1.1\r\nHost: app\r\n\r\n")
            data = sock.recv(65536)
        self.assertNotIn(b"HTTP/1.1 200", data)
        self.assertEqual(self.failures("not_tls") - before, 1)

    def refused(self, cert):
        try:
            with self.direct(cert) as sock:
                data = self.request_over(sock)
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return True
        return b"200" not in data.split(b"\r\n", 1)[0]

    def test_strict_refuses_a_certificate_from_another_ca(self):
        before = self.failures("unknown_ca")
        self.assertTrue(self.refused(self.foreign_cert))
        self.assertEqual(self.failures("unknown_ca") - before, 1)

    def test_strict_refuses_an_expired_certificate(self):
        before = self.failures("certificate_expired")
        self.assertTrue(self.refused(self.expired_cert))
        self.assertEqual(self.failures("certificate_expired") - before, 1)

    def test_strict_refuses_a_client_without_a_certificate(self):
        before = self.failures("no_client_certificate")
        self.assertTrue(self.refused(None))
        self.assertEqual(self.failures("no_client_certificate") - before, 1)

    def test_outbound_refuses_a_server_with_the_wrong_identity(self):
        before = self.failures("identity_mismatch", side="client")
        status, body = get(self.outbound_port, "/wrong-id/headers")
        self.assertEqual(status, 503)
        self.assertGreaterEqual(self.failures("identity_mismatch", side="client") - before, 1)


if __name__ == "__main__":
    unittest.main()
