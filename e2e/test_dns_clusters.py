"""Clusters whose endpoints are DNS names (STRICT_DNS, LOGICAL_DNS), resolved
by the proxy's c-ares resolver against a real DNS server on the wire: a
small authoritative one (e2e/dns_server.py) on 127.0.0.1:53 of a network
namespace the test creates, whose /etc/resolv.conf (mounted by `ip netns
exec` from /etc/netns/NS/) names it. Answers change, TTLs drive the
refresh, an outage keeps the last answer, and TLS to an external name is
verified against that name (DNS SAN). Then the same through weft-control: an
ExternalName Service with a DestinationPolicy that originates TLS."""

import json
import os
import time
import unittest

from harness import (CONTROL_BIN, PROXY_BIN, ROOT, Pki, bootstrap, free_port, http_listener,
                     metric_sum, route_to, socket_address, upstream_tls, xds_bootstrap)
from netns import NetnsPods

BACKEND = os.path.join(ROOT, "e2e", "backend.py")
DNS_SERVER = os.path.join(ROOT, "e2e", "dns_server.py")
LISTEN = 10000


def dns_cluster(name, hostname, port, kind="STRICT_DNS", **extra):
    cluster = {"name": name, "type": kind, "connect_timeout": "1s",
               "dns_lookup_family": "V4_ONLY",
               "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [
                   {"endpoint": {"address": socket_address(port, hostname)}}]}]}}
    cluster.update(extra)
    return cluster


def verified_as(ca, dns_name):
    """Upstream TLS that trusts `ca` and wants the server to be `dns_name`."""
    tls = upstream_tls(ca=ca)
    context = tls["typed_config"]
    context["sni"] = dns_name
    context["common_tls_context"]["validation_context"]["match_typed_subject_alt_names"] = [
        {"san_type": "DNS", "matcher": {"exact": dns_name}}]
    return tls


class DnsClusterTest(NetnsPods):
    prefix = "weft-dns-"

    @classmethod
    def setUpClass(cls):
        cls.ns = "weft-dns-%d" % os.getpid()
        cls.start(cls.ns)
        try:
            cls.in_pod(cls.ns, ["ip", "link", "set", "lo", "up"])
            cls.etc_file(cls.ns, "resolv.conf",
                         "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
            cls.etc_file(cls.ns, "hosts", "127.0.0.1 localhost\n")
            cls.zone = os.path.join(cls.dir, "zone.json")
            cls.query_log = os.path.join(cls.dir, "queries.txt")  # not in logs()
            cls.names = {
                "svc.example.test": {"a": ["127.0.0.2"], "ttl": 1},
                "logical.example.test": {"a": ["127.0.0.3", "127.0.0.2"], "ttl": 30},
                "api.example.test": {"a": ["127.0.0.4"], "ttl": 30},
                "impostor.example.test": {"a": ["127.0.0.5"], "ttl": 30},
            }
            cls.write_zone()
            cls.spawn(cls.ns, ["python3", DNS_SERVER, "--zone", cls.zone, "--log", cls.query_log],
                      name="dns")
            # (Not getent: its AI_ADDRCONFIG finds no address but loopback here.)
            resolve = "import socket; socket.getaddrinfo('api.example.test', 80)"
            cls.wait_for(lambda: cls.in_pod(cls.ns, ["python3", "-c", resolve]).returncode == 0,
                         "the DNS server")
            pki = Pki(cls.dir)
            cls.ca = pki.ca_cert
            api = pki.issue("api", ips=(), dns=("api.example.test",))
            impostor = pki.issue("impostor", ips=(), dns=("other.example.test",))
            for ip, name, tls in (("127.0.0.2", "one", None), ("127.0.0.3", "two", None),
                                  ("127.0.0.4", "api", api), ("127.0.0.5", "impostor", impostor)):
                port = 8443 if tls else 8080
                args = ["python3", BACKEND, "--host", ip, "--port", str(port), "--name", name]
                if tls:
                    args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
                cls.spawn(cls.ns, args, name="backend-" + name)
            cls.admin = free_port()
            routes = [route_to("strict", "/strict"), route_to("logical", "/logical"),
                      route_to("api", "/api"), route_to("impostor", "/impostor")]
            clusters = [
                # A refresh rate far beyond the test: only the TTL (1 s) refreshes it.
                dns_cluster("strict", "svc.example.test", 8080, dns_refresh_rate="60s",
                            respect_dns_ttl=True),
                dns_cluster("logical", "logical.example.test", 8080, "LOGICAL_DNS",
                            dns_refresh_rate="0.5s"),
                dns_cluster("api", "api.example.test", 8443,
                            transport_socket=verified_as(cls.ca, "api.example.test")),
                dns_cluster("impostor", "impostor.example.test", 8443,
                            transport_socket=verified_as(cls.ca, "api.example.test")),
            ]
            config = bootstrap([http_listener("edge", LISTEN, [
                {"name": "all", "domains": ["*"], "routes": routes}])], clusters, cls.admin)
            path = os.path.join(cls.dir, "bootstrap.json")
            with open(path, "w") as f:
                json.dump(config, f)
            cls.spawn(cls.ns, [PROXY_BIN, "-c", path, "--concurrency", "1"], name="proxy")
            cls.wait_for(lambda: cls.get("/strict") == "one", "the proxy on svc.example.test")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def write_zone(cls, servfail=False):
        with open(cls.zone + ".tmp", "w") as f:
            json.dump({"names": cls.names, "servfail": servfail}, f)
        os.rename(cls.zone + ".tmp", cls.zone)

    @classmethod
    def get(cls, path, port=LISTEN, host=None):
        args = ["curl", "-s", "--max-time", "5", "http://127.0.0.1:%d%s" % (port, path)]
        if host:
            args += ["-H", "Host: " + host]
        out = cls.in_pod(cls.ns, args)
        return out.stdout if out.returncode == 0 else None

    def status(self, path):
        out = self.in_pod(self.ns, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                    "--max-time", "5", "http://127.0.0.1:%d%s" % (LISTEN, path)])
        return int(out.stdout or 0)

    def queries(self, name):
        with open(self.query_log) as f:
            return sum(1 for line in f if line.split()[0] == name)

    def metrics(self):
        return self.in_pod(self.ns, ["curl", "-s", "http://127.0.0.1:%d/stats/prometheus"
                                     % self.admin]).stdout

    def test_strict_dns_follows_the_answers_at_their_ttl_and_survives_an_outage(self):
        before = self.queries("svc.example.test")
        self.names["svc.example.test"] = {"a": ["127.0.0.2", "127.0.0.3"], "ttl": 1}
        self.write_zone()
        seen = set()
        deadline = time.time() + 10
        while seen != {"one", "two"} and time.time() < deadline:
            seen.add(self.get("/strict"))
        self.assertEqual(seen, {"one", "two"}, self.logs())
        # Asked again at the TTL (1 s), not at the refresh rate (60 s).
        self.wait_for(lambda: self.queries("svc.example.test") - before >= 3,
                      "refreshes at the 1 s TTL", timeout=6)
        # The DNS server fails: the last answer keeps serving.
        self.write_zone(servfail=True)
        try:
            self.wait_for(lambda: metric_sum(self.metrics(), "weft_dns_queries_total",
                                             result="failure") >= 2, "failed refreshes")
            answers = {self.get("/strict") for _ in range(10)}
            self.assertEqual(answers, {"one", "two"})
        finally:
            self.write_zone()
        self.assertGreaterEqual(metric_sum(self.metrics(), "weft_dns_changes_total"), 1)

    def test_logical_dns_connects_to_the_first_address(self):
        self.assertEqual({self.get("/logical") for _ in range(6)}, {"two"})
        self.names["logical.example.test"] = {"a": ["127.0.0.2", "127.0.0.3"], "ttl": 30}
        self.write_zone()
        try:
            self.wait_for(lambda: self.get("/logical") == "one", "the new first address")
        finally:
            self.names["logical.example.test"] = {"a": ["127.0.0.3", "127.0.0.2"], "ttl": 30}
            self.write_zone()

    def test_tls_to_an_external_name_is_verified_against_that_name(self):
        self.assertEqual(self.get("/api"), "api")
        # A server that chains to the CA but is not api.example.test.
        self.assertEqual(self.status("/impostor"), 503)
        self.assertGreaterEqual(metric_sum(self.metrics(), "weft_tls_handshake_failures_total",
                                           reason="identity_mismatch"), 1)

    def test_an_external_name_service_through_weft_control(self):
        # weft-control makes the ExternalName a STRICT_DNS cluster, and its
        # DestinationPolicy the TLS to it; the app calls it by its Service name.
        config = os.path.join(self.dir, "mesh")
        os.makedirs(config, exist_ok=True)
        with open(os.path.join(config, "mesh.yaml"), "w") as f:
            f.write(EXTERNAL_MESH % {"ca": self.ca})
        xds, admin, outbound = free_port(), free_port(), free_port()
        self.spawn(self.ns, [CONTROL_BIN, "--config-dir", config, "--xds-address",
                             "127.0.0.1:%d" % xds, "--admin-port", str(free_port())],
                   name="control")
        path = os.path.join(self.dir, "sidecar.json")
        with open(path, "w") as f:
            json.dump(xds_bootstrap("client-0.shop", admin, xds,
                                    SERVICE_ACCOUNT="client", OUTBOUND_PORT=outbound), f)
        self.spawn(self.ns, [PROXY_BIN, "-c", path, "--concurrency", "1"], name="sidecar")
        self.wait_for(lambda: self.get("/", port=outbound,
                                       host="payments.shop.svc.cluster.local:8443") == "api",
                      "the ExternalName through the sidecar")
        text = self.in_pod(self.ns, ["curl", "-s", "http://127.0.0.1:%d/stats/prometheus"
                                     % admin]).stdout
        self.assertGreaterEqual(metric_sum(
            text, "istio_requests_total", destination_service="payments.shop.svc.cluster.local",
            response_code="200"), 1)


EXTERNAL_MESH = """
apiVersion: v1
kind: Service
metadata: {name: payments, namespace: shop}
spec:
  type: ExternalName
  externalName: api.example.test
  ports: [{name: http, port: 8443}]
---
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: payments, namespace: shop}
spec:
  targetRef: {name: payments}
  tls: {mode: SIMPLE, caCertificates: %(ca)s}
"""


if __name__ == "__main__":
    unittest.main()
