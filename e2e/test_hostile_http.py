"""Hostile and careless clients against weft-proxy: each case says what the
client gets, what the upstream received (recorded bytes), and that the proxy
is still alive with its memory bounded. Raw sockets and hand-made HTTP/2
frames; every loop bounded in count and time."""

import http.client
import struct
import time
import unittest

from harness import Proxy, bootstrap, free_port, http_listener, route_to, static_cluster

from hostile import (FLAG_END_HEADERS, FLAG_END_STREAM, FRAME_CONTINUATION, FRAME_DATA,
                     FRAME_HEADERS, FRAME_PING, FRAME_RST_STREAM, FRAME_SETTINGS, H2Client,
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
        # "edge": configured as weft-control configures a sidecar's listeners.
        cls.edge_port = free_port()
        edge = http_listener("edge", cls.edge_port, vhosts, use_remote_address=True,
                             request_headers_timeout="1s")
        cls.proxy = Proxy(bootstrap([http_listener("in", cls.port, vhosts), edge],
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


    def test_a_garbage_response_on_a_reused_connection_is_not_retried(self):
        before = len(self.upstream.requests("/garbage"))
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/garbage", headers={"Host": "x"})
            first = conn.getresponse()
            self.assertEqual((first.status, first.read()), (200, b"ok"))
            # The proxy reuses its upstream connection, which now answers junk:
            # bytes arrived, so the upstream may have acted; no second GET.
            conn.request("GET", "/garbage", headers={"Host": "x"})
            second = conn.getresponse()
            second.read()
            self.assertEqual(second.status, 502)
        finally:
            conn.close()
        self.assertEqual(len(self.upstream.requests("/garbage")) - before, 2,
                         "the request was sent again after a response byte had arrived")
        self.assert_alive()

    def test_an_idle_connection_flood_stays_bounded(self):
        import socket
        rss_before = peak_rss_kb(self.proxy.proc.pid)
        socks = [socket.create_connection(("127.0.0.1", self.edge_port), timeout=5)
                 for _ in range(500)]
        try:
            time.sleep(0.5)
            self.assert_alive()  # still serving with 500 idle connections open
            grown = peak_rss_kb(self.proxy.proc.pid) - rss_before
            print("\n  500 idle connections: peak RSS +%d kB" % grown)
            self.assertLess(grown, 64 * 1024)
        finally:
            for s in socks:
                s.close()

    # ---- HTTP/1 smuggling vectors: each refused, nothing forwarded ----

    def test_smuggling_vectors_are_refused(self):
        cases = {
            b"/cl-te": (b"POST /cl-te HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n"
                        b"transfer-encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            b"/two-cl": (b"POST /two-cl HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n"
                         b"content-length: 5\r\n\r\nabcde", 400),
            b"/te-gzip": (b"POST /te-gzip HTTP/1.1\r\nhost: x\r\n"
                          b"transfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
            b"/te-x": (b"POST /te-x HTTP/1.1\r\nhost: x\r\ntransfer-encoding: xchunked\r\n\r\n",
                       501),
            b"/chunk": (b"POST /chunk HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
                        b"zz\r\nhello\r\n0\r\n\r\n", 400),
            b"/chunk-big": (b"POST /chunk-big HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n"
                            b"\r\nffffffffffffffffff\r\nhello\r\n", 400),
            b"/two-hosts": (b"GET /two-hosts HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n", 400),
            b"/frag": (b"GET /frag#x HTTP/1.1\r\nhost: x\r\n\r\n", 400),
        }
        for path, (request, expected) in cases.items():
            with self.subTest(path=path):
                self.assertEqual(status_of(raw_http1(self.port, request, timeout=3)), expected)
                self.assertEqual(self.upstream.requests(path.decode()), [],
                                 "%s reached the upstream" % path)
        self.assert_alive()

    def test_obs_fold_and_bare_lf_reach_the_upstream_unambiguously(self):
        # RFC 9112 §5.2 lets a server unfold; §2.2 lets it accept a bare LF.
        # What matters is that the upstream gets one well-formed message.
        for path, request in ((b"/fold", b"GET /fold HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n 2\r\n\r\n"),
                              (b"/lf", b"GET /lf HTTP/1.1\nhost: x\nx-a: 1\n\n")):
            with self.subTest(path=path):
                status = status_of(raw_http1(self.port, request, timeout=3))
                self.assertIn(status, (200, 400))
                for head in self.upstream.requests(path.decode()):
                    for line in head.split(b"\r\n")[1:]:
                        self.assertNotIn(b"\n", line)
                        self.assertFalse(line.startswith((b" ", b"\t")), head)
        self.assert_alive()

    # ---- slow and idle clients ----

    def test_slowloris_is_cut_by_the_request_headers_timeout(self):
        import socket
        socks = []
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", self.edge_port), timeout=5)
            s.sendall(b"GET /slow HTTP/1.1\r\nhost: x\r\n")
            socks.append(s)
        started = time.time()
        answers = []
        try:
            for _ in range(3):  # a header byte every 0.25 s, up to the 1 s limit
                for s in socks:
                    try:
                        s.sendall(b"x")
                    except OSError:
                        pass
                time.sleep(0.25)
            for s in socks:
                s.settimeout(3)
                try:
                    answers.append(s.recv(4096))
                except OSError as e:
                    answers.append(repr(e).encode())
        finally:
            for s in socks:
                s.close()
        print("\n  100 slowloris connections: %d got 408 within %.1f s"
              % (sum(1 for a in answers if status_of(a) == 408), time.time() - started))
        self.assertEqual([status_of(a) for a in answers], [408] * 100)
        self.assertEqual(self.upstream.requests("/slow"), [])
        self.assert_alive()

    # ---- untrusted headers at the mesh edge ----

    def test_mesh_headers_from_the_edge_are_removed(self):
        forged = (b"GET /forged HTTP/1.1\r\nhost: x\r\nx-weft-attempt-count: 9\r\n"
                  b"x-weft-overflow: true\r\nx-envoy-retry-on: 5xx\r\nx-forwarded-proto: https\r\n"
                  b"x-forwarded-for: 1.2.3.4\r\nconnection: close\r\n\r\n")
        self.assertEqual(status_of(raw_http1(self.edge_port, forged)), 200)
        head = self.upstream.requests("/forged")[-1].lower()
        self.assertNotIn(b"x-weft-", head)
        self.assertNotIn(b"x-envoy-retry-on", head)
        self.assertIn(b"\r\nx-forwarded-proto: http\r\n", head + b"\r\n")
        self.assertIn(b"\r\nx-forwarded-for: 1.2.3.4,127.0.0.1", head)
        self.assertIn(b"\r\nx-envoy-external-address: 127.0.0.1", head)
        # A listener not at the edge (a trusted hop) passes them on.
        self.assertEqual(status_of(raw_http1(self.port, forged)), 200)
        self.assertIn(b"x-weft-overflow: true", self.upstream.requests("/forged")[-1].lower())

    # ---- HTTP/2 floods and violations ----

    def test_rapid_reset_flood_ends_the_connection(self):
        c = H2Client(self.port)
        try:
            sent = 0
            try:
                for _ in range(3000):
                    sid = c.request("/ok", end_stream=False)
                    c.send_raw(frame(FRAME_RST_STREAM, 0, sid, struct.pack(">I", 8)))
                    sent += 1
            except OSError:
                pass  # cut while still sending: what should happen
            self.assertTrue(c.wait_closed(5), "the reset flood was not cut")
            # nghttp2's reset rate limit (1000 burst, 33/s) ends the session.
            self.assertIn(c.goaway, (2, 11, None))
            print("\n  Rapid Reset: cut after %d of 3000 request+reset pairs" % sent)
        finally:
            c.close()
        self.assert_alive()

    def test_continuation_flood_ends_the_connection(self):
        c = H2Client(self.port)
        try:
            sid = c.new_stream()
            c.send_raw(frame(FRAME_HEADERS, 0, sid, hpack_request(b"/cont")))
            try:
                for _ in range(200):
                    c.send_raw(frame(FRAME_CONTINUATION, 0, sid, hpack_literal(b"x-c", b"v")))
            except OSError:
                pass  # cut while still sending
            self.assertTrue(c.wait_closed(5), "the CONTINUATION flood was not cut")
        finally:
            c.close()
        self.assertEqual(self.upstream.requests("/cont"), [])
        self.assert_alive()

    def test_settings_and_ping_floods_stay_bounded(self):
        rss_before = peak_rss_kb(self.proxy.proc.pid)
        c = H2Client(self.port)
        try:
            flood = frame(FRAME_PING, 0, 0, b"12345678") * 2000 + frame(FRAME_SETTINGS, 0, 0) * 2000
            try:
                for _ in range(5):
                    c.send_raw(flood)  # never reading the ACKs
            except OSError:
                pass  # nghttp2's bound on queued ACKs (1000) ended the connection
            self.assertTrue(c.wait_closed(3), "a peer that never reads its ACKs was kept")
        finally:
            c.close()
        self.assertLess(peak_rss_kb(self.proxy.proc.pid) - rss_before, 64 * 1024)
        self.assert_alive()

    def test_zero_window_with_a_large_response_is_held_not_buffered_forever(self):
        rss_before = peak_rss_kb(self.proxy.proc.pid)
        c = H2Client(self.port)
        try:
            # SETTINGS_INITIAL_WINDOW_SIZE 0: the proxy may send no DATA at all.
            c.send_raw(frame(FRAME_SETTINGS, 0, 0, struct.pack(">HI", 4, 0)))
            sids = [c.request("/ok") for _ in range(20)]
            c.pump(lambda: all(c.responses.get(s, {}).get("headers") for s in sids), timeout=3)
            self.assertTrue(all(c.status(s) == 200 for s in sids))
            self.assertFalse(any(c.responses[s]["data"] for s in sids), "DATA sent into a zero window")
        finally:
            c.close()
        self.assertLess(peak_rss_kb(self.proxy.proc.pid) - rss_before, 64 * 1024)
        self.assert_alive()

    def test_frames_on_a_closed_or_idle_stream_are_a_protocol_error(self):
        c = H2Client(self.port)
        try:
            c.send_raw(frame(FRAME_DATA, 0, 7, b"data on a stream never opened"))
            self.assertTrue(c.wait_closed(3))
            self.assertEqual(c.goaway, 1, "expected GOAWAY PROTOCOL_ERROR")
        finally:
            c.close()
        self.assert_alive()


if __name__ == "__main__":
    unittest.main()
