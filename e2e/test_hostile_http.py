"""Hostile and careless clients against weft-proxy: each case says what the
client gets, what the upstream received (recorded bytes), and that the proxy
is still alive with its memory bounded. Raw sockets and hand-made HTTP/2
frames; every loop bounded in count and time."""

import time
import unittest

from harness import Proxy, bootstrap, free_port, http_listener, route_to, static_cluster
from hostile import (FLAG_END_HEADERS, FLAG_END_STREAM, FRAME_DATA, FRAME_HEADERS, H2Client,
                     RecordingUpstream, frame, hpack_int, hpack_literal, hpack_request,
                     peak_rss_kb, raw_http1, status_of)


class HostileClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream = RecordingUpstream()
        cls.port = free_port()
        vhosts = [
            {"name": "named", "domains": ["example.org"],
             "routes": [dict(route_to("up"), request_headers_to_add=[
                 {"header": {"key": "x-vhost", "value": "named"}}])]},
            {"name": "any", "domains": ["*"], "routes": [route_to("up")]},
        ]
        cls.proxy = Proxy(bootstrap([http_listener("in", cls.port, vhosts)],
                                    [static_cluster("up", [cls.upstream.port])], free_port()),
                          concurrency=1).wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.upstream.stop()

    def assert_alive(self):
        self.assertIsNone(self.proxy.proc.poll(), "weft-proxy died:\n" + self.proxy.output()[-3000:])
        # And still serving: a plain request gets through.
        self.assertEqual(status_of(raw_http1(
            self.port, b"GET /ok HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")), 200)

    # ---- HTTP/2 stream lifetime (issue 12, bug 1) ----

    def early_response_then(self, extra_frame):
        """POST /early: the upstream answers before the body ends; the client
        then sends `extra_frame(stream id)` on the finished stream, and a new
        request on the same connection must still be served."""
        c = H2Client(self.port)
        try:
            sid = c.request("/early", method="POST", end_stream=False)
            c.data(sid, b"a" * 65536)
            self.assertTrue(c.pump(c.ended(sid)), "no early response")
            self.assertEqual(c.status(sid), 200)
            self.assertEqual(c.responses[sid]["data"], b"early")
            c.send_raw(extra_frame(sid))
            time.sleep(0.2)
            follow = c.request("/ok")
            self.assertTrue(c.pump(c.ended(follow)), "the connection stopped serving")
            self.assertEqual(c.status(follow), 200)
            # The proxy asked the client to stop sending, without error (RFC 9113 §8.1).
            self.assertEqual(c.resets.get(sid), 0, "expected RST_STREAM NO_ERROR after the response")
        finally:
            c.close()
        self.assert_alive()

    def test_data_after_an_early_response(self):
        self.early_response_then(lambda sid: frame(FRAME_DATA, 0, sid, b"b" * 1000))

    def test_end_stream_after_an_early_response(self):
        self.early_response_then(lambda sid: frame(FRAME_DATA, FLAG_END_STREAM, sid))

    def test_trailers_after_an_early_response(self):
        self.early_response_then(lambda sid: frame(
            FRAME_HEADERS, FLAG_END_STREAM | FLAG_END_HEADERS, sid, hpack_literal(b"x-t", b"1")))

    # ---- HTTP/2 header-list limit (bug 2) ----

    def test_hpack_bomb_is_refused_before_it_is_stored(self):
        before = len(self.upstream.requests())
        for _ in range(3):
            c = H2Client(self.port)
            try:
                # One 4 KB dynamic-table entry, then ~12,000 one-byte
                # references to it: a 16 KB frame that decodes to ~48 MB.
                big = hpack_literal(b"x-big", b"v" * 4000, indexing=True)
                block = hpack_request(b"/bomb", extra=big)
                block += b"\xbe" * (16000 - len(block))  # index 62: the newest entry
                sid = c.new_stream()
                c.headers(sid, block, end_stream=True)
                self.assertTrue(c.pump(c.ended(sid), timeout=10), "no answer to the bomb")
                self.assertEqual(c.status(sid), 431)
            finally:
                c.close()
        self.assertEqual(self.upstream.requests()[before:], [], "the bomb reached the upstream")
        # Three bombs used to take the proxy from ~11 MB to ~450 MB.
        self.assertLess(peak_rss_kb(self.proxy.proc.pid), 150 * 1024)
        self.assert_alive()

    def test_too_many_header_fields_get_431_on_both_codecs(self):
        before = len(self.upstream.requests())
        fields = b"".join(b"x-h%d: v\r\n" % i for i in range(150))
        response = raw_http1(self.port, b"GET /many HTTP/1.1\r\nhost: x\r\n" + fields + b"\r\n")
        self.assertEqual(status_of(response), 431)
        c = H2Client(self.port)
        try:
            sid = c.request("/many", extra=[("x-h%d" % i, "v") for i in range(150)])
            self.assertTrue(c.pump(c.ended(sid)))
            self.assertEqual(c.status(sid), 431)
            ok = c.request("/ok", extra=[("x-h%d" % i, "v") for i in range(50)])
            self.assertTrue(c.pump(c.ended(ok)))
            self.assertEqual(c.status(ok), 200)
        finally:
            c.close()
        self.assertEqual(len(self.upstream.requests("/many")), 0)
        self.assertEqual(len(self.upstream.requests()), before + 1)

    # ---- connection errors close the connection (bug 4) ----

    def test_connection_error_closes_the_connection_and_its_upstream_request(self):
        held_before = self.upstream.hold_closed
        c = H2Client(self.port)
        try:
            held = c.request("/hold", method="POST", end_stream=False)
            # Wait until the held request has reached the upstream.
            deadline = time.time() + 5
            while not self.upstream.requests("/hold") and time.time() < deadline:
                c.pump(lambda: False, 0.05)
            self.assertTrue(self.upstream.requests("/hold"))
            # A header block HPACK cannot decode: index 1,000,000 does not exist.
            c.headers(c.new_stream(), hpack_int(1000000, 7, 0x80), end_stream=True)
            self.assertTrue(c.wait_closed(3), "the connection stayed open after its GOAWAY")
            self.assertEqual(c.goaway, 9, "expected GOAWAY COMPRESSION_ERROR")
            self.assertNotIn(held, c.responses)
        finally:
            c.close()
        deadline = time.time() + 5
        while self.upstream.hold_closed == held_before and time.time() < deadline:
            time.sleep(0.05)
        self.assertGreater(self.upstream.hold_closed, held_before,
                           "the upstream request of the failed connection was left open")
        self.assert_alive()

    # ---- host without :authority (bug 5) ----

    def test_host_stands_in_for_a_missing_authority(self):
        c = H2Client(self.port)
        try:
            sid = c.request("/who", authority=None, extra=[("host", "example.org")])
            self.assertTrue(c.pump(c.ended(sid)))
            self.assertEqual(c.status(sid), 200)
        finally:
            c.close()
        head = self.upstream.requests("/who")[-1].lower()
        self.assertIn(b"\r\nhost: example.org", head)
        self.assertIn(b"\r\nx-vhost: named", head, "routing did not see the host")

    # ---- HTTP/1 strictness (bug 3) ----

    def test_whitespace_in_a_request_header_name_is_refused(self):
        cases = [
            b"POST /ws1 HTTP/1.1\r\nhost: x\r\nContent-Length : 5\r\n\r\nhello",
            b"POST /ws2 HTTP/1.1\r\nhost: x\r\nTransfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            b"GET /ws3 HTTP/1.1\r\nHost : x\r\n\r\n",
            b"GET /ws4 HTTP/1.1\r\nhost: x\r\nUpgrade : h2c\r\n\r\n",
            b"GET /ws5 HTTP/1.1\r\n Host: x\r\n\r\n",
            b"GET /ws6 HTTP/1.1\r\nhost: x\r\nx-a\tb: 1\r\n\r\n",
        ]
        for request in cases:
            with self.subTest(request=request):
                self.assertEqual(status_of(raw_http1(self.port, request)), 400)
        for path in ("/ws1", "/ws2", "/ws3", "/ws4", "/ws5", "/ws6"):
            self.assertEqual(self.upstream.requests(path), [], path + " reached the upstream")
        self.assert_alive()

    def test_whitespace_in_a_response_header_name_is_a_502(self):
        response = raw_http1(self.port, b"GET /badresp HTTP/1.1\r\nhost: x\r\n\r\n", timeout=3)
        self.assertEqual(status_of(response), 502)
        self.assertNotIn(b"hello", response)
        self.assert_alive()


if __name__ == "__main__":
    unittest.main()
