#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/TARGET/) in the
input formats the targets read (see each *_fuzz.cc): real requests and
responses, valid HTTP/2 exchanges, the project's own configuration files and
admission fixtures. Re-run after changing a target's input format; the
outputs are checked in."""

import glob
import os
import re
import struct
import sys

import hpack

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def chunks(data, size):
    """[length byte][bytes] records as the HTTP/1 targets read them."""
    out = b""
    for i in range(0, len(data), size):
        part = data[i:i + size]
        out += bytes([len(part) - 1]) + part
    return out


REQUESTS = [
    b"GET / HTTP/1.1\r\nhost: x\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello",
    b"POST /c HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-t: 1\r\n\r\n",
    b"GET /a HTTP/1.1\r\nhost: x\r\n\r\nGET /b HTTP/1.1\r\nhost: x\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\nraw",
    b"CONNECT x:443 HTTP/1.1\r\nhost: x:443\r\n\r\ntunnel",
    b"GET http://x/abs HTTP/1.0\r\nexpect: 100-continue\r\n\r\n",
]
RESPONSES = [
    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\nraw",
    b"HTTP/1.0 200 OK\r\n\r\nbody until close",
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
]


def frame(kind, flags, stream, payload):
    """A record of the HTTP/2 target: type, flags, stream, u16 length, payload."""
    return bytes([kind, flags, stream]) + struct.pack(">H", len(payload)) + payload


def reads(*frames):
    """One read per frame (op byte 0, frame count 1)."""
    return b"".join(b"\x00\x00" + f for f in frames)


def main():
    for i, req in enumerate(REQUESTS):
        write("http1_server_fuzz", "req%d" % i, bytes([i, 255, 100, 1]) + chunks(req, 7 + i * 5))
    for i, resp in enumerate(RESPONSES):
        write("http1_client_fuzz", "resp%d" % i, bytes([i * 3]) + chunks(resp, 5 + i * 4))
    enc = hpack.Encoder()
    get = enc.encode([(":method", "GET"), (":scheme", "http"), (":path", "/"),
                      (":authority", "x")])
    post = enc.encode([(":method", "POST"), (":scheme", "http"), (":path", "/up"),
                       (":authority", "x"), ("content-type", "application/grpc")])
    trailers = enc.encode([("grpc-status", "0")])
    server = [
        reads(frame(1, 0x5, 1, get)),
        reads(frame(1, 0x4, 1, post), frame(0, 0x0, 1, b"a" * 100), frame(1, 0x5, 1, trailers)),
        reads(frame(1, 0x1, 3, post[:5]), frame(9, 0x4, 3, post[5:])),
        reads(frame(1, 0x4, 1, post), frame(3, 0, 1, b"\x00\x00\x00\x08"), frame(0, 1, 1, b"")),
        reads(frame(6, 0, 0, b"12345678"), frame(8, 0, 0, b"\x00\x01\x00\x00"),
              frame(4, 0, 0, b"\x00\x04\x00\x00\x00\x00"), frame(7, 0, 0, b"\x00" * 8)),
    ]
    for i, seed in enumerate(server):
        write("http2_codec_fuzz", "server%d" % i, bytes([0, i, 255, 100]) + seed)
    renc = hpack.Encoder()
    resp = renc.encode([(":status", "200"), ("content-type", "text/plain")])
    client = [
        reads(frame(1, 0x5, 1, resp)),
        reads(frame(1, 0x4, 1, resp), frame(0, 0x1, 1, b"body"), frame(1, 0x5, 3, resp)),
        reads(frame(1, 0x4, 3, resp), frame(3, 0, 3, b"\x00\x00\x00\x00")),
        reads(frame(7, 0, 0, b"\x00\x00\x00\x01\x00\x00\x00\x00")),
    ]
    for i, seed in enumerate(client):
        write("http2_codec_fuzz", "client%d" % i, bytes([1]) + seed)
    for path in glob.glob(os.path.join(ROOT, "tools", "*.yaml")):
        with open(path, "rb") as f:
            write("bootstrap_fuzz", os.path.basename(path), f.read())
    # The e2e tests' mesh configurations (YAML strings in the test files).
    for path in glob.glob(os.path.join(ROOT, "e2e", "test_*.py")):
        with open(path) as f:
            text = f.read()
        for n, block in enumerate(re.findall(r'"""\n(apiVersion:.*?)"""', text, re.S)):
            write("control_config_fuzz", "%s-%d.yaml" % (os.path.basename(path)[:-3], n),
                  block.replace("%%", "%").encode())
    for path in glob.glob(os.path.join(ROOT, "e2e", "fixtures", "admission", "*.json")):
        with open(path, "rb") as f:
            write("admission_fuzz", os.path.basename(path), f.read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
