#!/usr/bin/env python3
"""A test backend for the e2e suite: a real HTTP/1.1 server on loopback.

Paths:
  /echo            echoes the request body (Content-Length or chunked)
  /headers         the request headers as JSON
  /big?bytes=N     N bytes of a repeating pattern, streamed with chunked encoding
  /status/CODE     an empty response with that status
  /flaky?p=N       503 with probability N%, else 200
  (fail_one_in=N: every Nth request, whatever its path, is a 500: a canary's injected failures)
  /delay?ms=N      answers after N milliseconds
  /reset           starts a response, then closes the socket mid-body
  /ws              with "Upgrade: websocket": 101, then echoes raw bytes
  CONNECT          200, then echoes raw bytes (a forward proxy's tunnel)
  anything else    the backend's name, with header x-backend: NAME
"""

import argparse
import collections
import json
import os
import random
import socketserver
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATTERN = bytes(range(256)) * 256  # 64 KiB


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes: without this, Nagle holds the
    # body until the proxy's delayed ACK (40 ms per request).
    disable_nagle_algorithm = True
    server_name_tag = "backend"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with self.server.lock:  # open connections now and at most (circuit-breaker tests)
            self.server.connections += 1
            self.server.peak_connections = max(self.server.peak_connections,
                                               self.server.connections)

    def finish(self):
        with self.server.lock:
            self.server.connections -= 1
        super().finish()

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(length) if length else b""

    def send_body(self, code, body, content_type="text/plain", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-backend", self.server.name)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def raw_echo(self):
        self.wfile.flush()
        sock = self.connection
        while True:
            data = sock.recv(65536)
            if not data:
                break
            sock.sendall(data)
        self.close_connection = True

    def do_CONNECT(self):
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.raw_echo()

    def handle_any(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("x-backend", self.server.name)
            self.end_headers()
            return self.raw_echo()
        query = urllib.parse.parse_qs(url.query)
        body = self.read_body()
        with self.server.lock:
            self.server.requests += 1
            count = self.server.requests
            self.server.seen.append((self.command, self.path, self.headers.get("Host", "")))
        if self.server.delay_ms:
            time.sleep(self.server.delay_ms / 1000.0)
        if self.server.fail_status:
            return self.send_body(self.server.fail_status, b"failing")
        if self.server.fail_one_in and count % self.server.fail_one_in == 0:
            return self.send_body(500, b"injected failure")
        if self.server.close_after_response:
            # An app whose keep-alive timeout is shorter than the proxy's: it
            # closes the connection right after answering, without saying so.
            self.close_connection = True
        if url.path == "/healthz":
            # An app's readiness: failing while its --health-file exists.
            failing = self.server.health_file and os.path.exists(self.server.health_file)
            return self.send_body(503 if failing else 200, b"unhealthy" if failing else b"ok")
        if url.path == "/echo":
            return self.send_body(200, body, "application/octet-stream")
        if url.path == "/headers":
            data = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
            return self.send_body(200, data, "application/json")
        if url.path == "/big":
            remaining = int(query.get("bytes", ["1048576"])[0])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("x-backend", self.server.name)
            self.end_headers()
            while remaining > 0:
                piece = PATTERN[: min(len(PATTERN), remaining)]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                remaining -= len(piece)
            self.wfile.write(b"0\r\n\r\n")
            return
        if url.path == "/flaky":
            failing = random.random() * 100 < float(query.get("p", ["50"])[0])
            return self.send_body(503 if failing else 200, b"flaky" if failing else self.server.name.encode())
        if url.path.startswith("/status/"):
            return self.send_body(int(url.path.split("/")[2]), b"")
        if url.path == "/delay":
            time.sleep(int(query.get("ms", ["100"])[0]) / 1000.0)
            return self.send_body(200, self.server.name.encode())
        if url.path in ("/trickle", "/stall"):
            # /trickle: a chunk every `every_ms`; /stall: one chunk, then silence
            # for `stall_ms`, then the rest.
            chunks = int(query.get("chunks", ["10"])[0])
            every = int(query.get("every_ms", ["100"])[0]) / 1000.0
            stall = int(query.get("stall_ms", ["0"])[0]) / 1000.0
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for i in range(chunks):
                    self.wfile.write(b"6\r\nchunk%d\r\n" % (i % 10))
                    self.wfile.flush()
                    time.sleep(stall if (url.path == "/stall" and i == 0) else every)
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                self.close_connection = True
            return
        if url.path == "/reset":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        return self.send_body(200, self.server.name.encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up early (timeouts, resets) are part of the tests
    allow_reuse_address = True
    request_queue_size = 512


def serve(port, name, host="127.0.0.1", delay_ms=0, close_after_response=False, fail_status=0,
          health_file=None):
    server = Server((host, port), Handler)
    server.fail_status = fail_status
    server.fail_one_in = 0
    server.health_file = health_file
    server.delay_ms = delay_ms
    server.close_after_response = close_after_response
    server.name = name
    server.lock = threading.Lock()
    server.requests = 0
    server.seen = collections.deque(maxlen=5000)  # (method, target, Host) of recent requests
    server.connections = server.peak_connections = 0
    return server


class BannerHandler(socketserver.BaseRequestHandler):
    """Server-speaks-first TCP: a banner at once ("220 NAME ready"), then echo."""

    def handle(self):
        self.request.sendall(b"220 %s ready\r\n" % self.server.banner_name.encode())
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)


class TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve_banner(port, host="127.0.0.1", name="weft-test"):
    server = TcpServer((host, port), BannerHandler)
    server.banner_name = name
    return server


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="backend")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--banner", action="store_true", help="server-speaks-first TCP echo")
    parser.add_argument("--banner-name", default="weft-test", help="the banner's NAME")
    parser.add_argument("--health-file", help="/healthz answers 503 while this file exists")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (and --tls-key)")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    srv = (serve_banner(args.port, args.host, args.banner_name) if args.banner
           else serve(args.port, args.name, args.host, health_file=args.health_file))
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = context.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()
