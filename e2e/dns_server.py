"""A tiny authoritative DNS server for the DNS-cluster tests (UDP, RFC 1035
wire format by hand: there is no DNS library in Debian's Python we rely on).
It answers A and AAAA queries from a JSON file the test rewrites:
{"names": {"NAME": {"a": ["IP", ...], "aaaa": [...], "ttl": SECONDS}},
 "servfail": false}, read on every query; names it does not have get
NXDOMAIN, and "servfail": true answers everything with SERVFAIL (a DNS
outage). Every query is appended to the log file, one "NAME TYPE" line."""

import argparse
import json
import socket
import struct

TYPES = {1: "a", 28: "aaaa"}


def parse_question(packet):
    """(id, flags, name, qtype, end of question) of a query."""
    ident, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if qdcount != 1:
        raise ValueError("one question expected")
    labels, i = [], 12
    while packet[i] != 0:
        length = packet[i]
        labels.append(packet[i + 1:i + 1 + length].decode("ascii").lower())
        i += 1 + length
    qtype, _ = struct.unpack("!HH", packet[i + 1:i + 5])
    return ident, flags, ".".join(labels), qtype, i + 5


def answer(packet, zone):
    ident, flags, name, qtype, end = parse_question(packet)
    question = packet[12:end]
    rd = flags & 0x0100
    entry = zone.get("names", {}).get(name)
    if zone.get("servfail"):
        rcode, records = 2, []
    elif entry is None:
        rcode, records = 3, []
    else:
        rcode = 0
        records = entry.get(TYPES.get(qtype, ""), [])
    header = struct.pack("!HHHHHH", ident, 0x8400 | rd | rcode, 1, len(records), 0, 0)
    body = b""
    for ip in records:
        family = socket.AF_INET if qtype == 1 else socket.AF_INET6
        data = socket.inet_pton(family, ip)
        # The name as a pointer to the question (offset 12).
        body += struct.pack("!HHHIH", 0xC00C, qtype, 1, int(entry.get("ttl", 30)), len(data))
        body += data
    return header + question + body


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=53)
    parser.add_argument("--zone", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.address, args.port))
    while True:
        packet, peer = sock.recvfrom(4096)
        try:
            with open(args.zone) as f:
                zone = json.load(f)
            reply = answer(packet, zone)
            _, _, name, qtype, _ = parse_question(packet)
            with open(args.log, "a") as f:
                f.write("%s %s\n" % (name, TYPES.get(qtype, str(qtype))))
        except (ValueError, IndexError, OSError, json.JSONDecodeError):
            continue  # not a query we understand: no answer, as a real server may
        sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
