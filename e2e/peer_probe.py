"""Run in a pod: what a StatefulSet member does to find its peers. For each
name given, resolve it (the pod's /etc/hosts: what kube-dns answers),
connect to the TCP peer port and read the server's greeting, and GET the
HTTP port's / and /headers. Prints one JSON object {name: {...}}; errors
are reported, not raised, so one dead peer does not hide the others."""

import argparse
import json
import socket
import urllib.request


def tcp_greeting(name, port):
    with socket.create_connection((name, port), timeout=5) as s:
        return s.recv(64).decode().strip()


def http_get(name, port, path):
    with urllib.request.urlopen("http://%s:%d%s" % (name, port, path), timeout=5) as r:
        return r.read().decode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tcp-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("names", nargs="+")
    args = parser.parse_args()
    out = {}
    for name in args.names:
        result = {}
        for key, call in (("greeting", lambda: tcp_greeting(name, args.tcp_port)),
                          ("name", lambda: http_get(name, args.http_port, "/")),
                          ("headers", lambda: json.loads(http_get(name, args.http_port,
                                                                  "/headers")))):
            try:
                result[key] = call()
            except (OSError, ValueError) as e:
                result[key + "_error"] = "%s: %s" % (type(e).__name__, e)
        out[name] = result
    print(json.dumps(out))


if __name__ == "__main__":
    main()
