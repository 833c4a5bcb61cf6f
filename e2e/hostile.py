"""Tools for the hostile-client tests: a recording HTTP/1.1 upstream that
shows exactly which bytes the proxy forwarded, raw HTTP/2 frames (HPACK by
the hpack module Debian's python3-h2 brings, or written by hand), so a
test can send what no well-behaved client library would."""

import socket
import struct
import threading
import time

import hpack

from harness import proc_status_kb


class RecordingUpstream:
    """An HTTP/1.1 server on loopback that records every request head it
    receives (raw bytes) and answers by path:
      /early    200 at once, before reading any body, then discards input
      /hold     never answers; records when the proxy closes the connection
      /badresp  a response whose header name has whitespace before the colon
      /garbage  "ok" the first time on a connection, bytes that are not HTTP after
      anything else: reads a Content-Length body, answers 200 "ok" (keep-alive)
    """

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.heads = []           # raw request heads, in arrival order
        self.bodies = []          # raw bytes after each head that the server read
        self.hold_closed = 0      # /hold connections the proxy closed
        self.open_connections = 0
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def requests(self, path=None):
        with self.lock:
            return [h for h in self.heads
                    if path is None or h.split(b" ")[1].startswith(path.encode())]

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with self.lock:
            self.open_connections += 1
        buf = b""
        served = 0  # /garbage requests on this connection
        try:
            conn.settimeout(30)
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                with self.lock:
                    self.heads.append(head)
                path = head.split(b" ")[1]
                if path.startswith(b"/early"):
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nearly")
                    while conn.recv(65536):
                        pass
                    return
                if path.startswith(b"/hold"):
                    while conn.recv(65536):
                        pass
                    with self.lock:
                        self.hold_closed += 1
                    return
                if path.startswith(b"/garbage"):
                    served += 1
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok" if served == 1
                                 else b"SMTP 220 not http\r\n\r\n")
                    continue
                if path.startswith(b"/badresp"):
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello")
                    continue
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                while len(buf) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                with self.lock:
                    self.bodies.append(buf[:length])
                buf = buf[length:]
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        except OSError:
            return
        finally:
            with self.lock:
                self.open_connections -= 1
            conn.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


def raw_http1(port, request, timeout=5):
    """Sends raw bytes; returns everything the proxy answers until it closes
    (or the timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        out = b""
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                out += data
        except socket.timeout:
            pass
        return out


def status_of(response):
    """The status code of the first response in raw HTTP/1 bytes, or 0."""
    try:
        return int(response.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


# ---- HTTP/2 ----

FRAME_DATA, FRAME_HEADERS, FRAME_RST_STREAM, FRAME_SETTINGS = 0, 1, 3, 4
FRAME_PING, FRAME_GOAWAY, FRAME_WINDOW_UPDATE, FRAME_CONTINUATION = 6, 7, 8, 9
FLAG_END_STREAM, FLAG_END_HEADERS, FLAG_ACK = 0x1, 0x4, 0x1


def frame(kind, flags, stream_id, payload=b""):
    """One HTTP/2 frame, serialised by hand (RFC 9113 §4.1)."""
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream_id & 0x7FFFFFFF) + payload


def hpack_int(value, prefix_bits, first_byte_flags):
    """RFC 7541 §5.1 integer with an N-bit prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte_flags | value])
    out = [first_byte_flags | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(name, value, indexing=False):
    """A literal field with a literal name (no Huffman)."""
    out = b"\x40" if indexing else b"\x00"
    out += hpack_int(len(name), 7, 0) + name
    return out + hpack_int(len(value), 7, 0) + value


def hpack_request(path=b"/", authority=b"x", method=b"GET", extra=b""):
    """A request header block: static-table pseudo-headers, literal others."""
    block = (b"\x82" if method == b"GET" else b"\x83") + b"\x86"  # :method, :scheme http
    block += b"\x04" + hpack_int(len(path), 7, 0) + path         # :path, name index 4
    if authority is not None:
        block += b"\x01" + hpack_int(len(authority), 7, 0) + authority  # :authority
    return block + extra


class H2Client:
    """HTTP/2 with prior knowledge on a raw socket, frames written and read
    here (HPACK by python3-h2's hpack), so a test can send what no client
    library's state machine would: frames after a stream ended, floods,
    broken header blocks."""

    PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

    def __init__(self, port, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.decoder.max_allowed_table_size = 65536
        self.next_id = 1
        self.buf = b""
        self.responses = {}   # stream id -> {"headers": {...}, "data": b"", "ended": bool}
        self.resets = {}      # stream id -> error code
        self.goaway = None    # error code of a GOAWAY received
        self.closed = False
        # A large connection window so big responses flow.
        self.send_raw(self.PREFACE + frame(FRAME_SETTINGS, 0, 0) +
                      frame(FRAME_WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 30)))

    def send_raw(self, data):
        self.sock.sendall(data)

    def new_stream(self):
        sid = self.next_id
        self.next_id += 2
        return sid

    def request(self, path, method="GET", authority="x", end_stream=True, extra=()):
        sid = self.new_stream()
        headers = [(":method", method), (":scheme", "http"), (":path", path)]
        if authority is not None:
            headers.append((":authority", authority))
        headers.extend(extra)
        self.headers(sid, self.encoder.encode(headers), end_stream)
        return sid

    def headers(self, sid, block, end_stream):
        flags = FLAG_END_HEADERS | (FLAG_END_STREAM if end_stream else 0)
        self.send_raw(frame(FRAME_HEADERS, flags, sid, block))

    def data(self, sid, payload, end_stream=False):
        for i in range(0, max(len(payload), 1), 16384):
            last = i + 16384 >= len(payload)
            self.send_raw(frame(FRAME_DATA, FLAG_END_STREAM if end_stream and last else 0, sid,
                                payload[i:i + 16384]))

    def pump(self, until, timeout=5):
        """Reads and handles frames until `until()` is true, the connection
        closes, or the timeout passes; returns until()."""
        deadline = time.time() + timeout
        while not until() and not self.closed and time.time() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except (ConnectionResetError, BrokenPipeError):
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            self.buf += data
            while len(self.buf) >= 9:
                length = struct.unpack(">I", b"\0" + self.buf[:3])[0]
                if len(self.buf) < 9 + length:
                    break
                kind, flags = self.buf[3], self.buf[4]
                sid = struct.unpack(">I", self.buf[5:9])[0] & 0x7FFFFFFF
                payload = self.buf[9:9 + length]
                self.buf = self.buf[9 + length:]
                self._on(kind, flags, sid, payload)
        return until()

    def _reply(self, data):
        """A frame the protocol asks of us while reading: a peer that has
        closed simply ends the conversation."""
        try:
            self.send_raw(data)
        except OSError:
            self.closed = True

    def _on(self, kind, flags, sid, payload):
        if kind == FRAME_SETTINGS and not flags & FLAG_ACK:
            self._reply(frame(FRAME_SETTINGS, FLAG_ACK, 0))
        elif kind == FRAME_PING and not flags & FLAG_ACK:
            self._reply(frame(FRAME_PING, FLAG_ACK, 0, payload))
        elif kind == FRAME_HEADERS:
            r = self.responses.setdefault(sid, {"data": b"", "ended": False})
            r.setdefault("headers", {}).update(
                {k.decode(): v.decode() for k, v in self.decoder.decode(payload, raw=True)})
            r["ended"] = r["ended"] or bool(flags & FLAG_END_STREAM)
        elif kind == FRAME_DATA:
            r = self.responses.setdefault(sid, {"data": b"", "ended": False})
            r["data"] += payload
            r["ended"] = r["ended"] or bool(flags & FLAG_END_STREAM)
            if payload:
                self._reply(frame(FRAME_WINDOW_UPDATE, 0, sid, struct.pack(">I", len(payload))))
        elif kind == FRAME_RST_STREAM:
            self.resets[sid] = struct.unpack(">I", payload)[0]
        elif kind == FRAME_GOAWAY:
            self.goaway = struct.unpack(">I", payload[4:8])[0]

    def ended(self, sid):
        return lambda: self.responses.get(sid, {}).get("ended", False) or sid in self.resets

    def status(self, sid):
        return int(self.responses.get(sid, {}).get("headers", {}).get(":status", 0))

    def wait_closed(self, timeout=5):
        """True when the proxy closes the TCP connection within `timeout`."""
        self.pump(lambda: False, timeout)
        return self.closed

    def close(self):
        self.sock.close()


def peak_rss_kb(pid):
    return proc_status_kb(pid, "VmHWM")
