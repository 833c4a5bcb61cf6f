"""Transparent interception in network namespaces the test creates: two
"pods" joined by a veth pair, each with its weft-proxy running as UID 1337
and the rules installed by the real `weft-proxy init`. An app in pod A calls
a Service IP that exists nowhere; its connection is redirected to A's proxy,
which routes by the original destination over mTLS to pod B, where the
inbound redirect hands it to B's proxy and then to the app. Skipped, with
the reason printed, only where the machine forbids network namespaces."""

import json
import os
import unittest

from harness import (PROXY_BIN, ROOT, HCM_TYPE, ROUTER_TYPE, TCP_TYPE, Pki, downstream_tls,
                     metric_sum, upstream_tls)
from netns import UID, NetnsPods, sh
TRUST = "spiffe://cluster.local/ns/shop/sa/"
POD_A, POD_B = "10.77.0.1", "10.77.0.2"
SERVICE_IP = "10.96.0.10"
BACKEND = os.path.join(ROOT, "e2e", "backend.py")
ORIGINAL_DST = {"name": "passthrough", "type": "ORIGINAL_DST", "lb_policy": "CLUSTER_PROVIDED",
                "connect_timeout": "1s"}


def addr(ip, port):
    return {"socket_address": {"address": ip, "port_value": port}}


def passthrough_listener(name, port):
    return {"name": name, "address": addr("0.0.0.0", port), "use_original_dst": True,
            "filter_chains": [{"filters": [{"name": "envoy.filters.network.tcp_proxy",
                                            "typed_config": {"@type": TCP_TYPE, "stat_prefix": name,
                                                             "cluster": "passthrough"}}]}]}


def virtual_http_listener(name, ip, port, cluster, transport_socket=None, **hcm_extra):
    hcm = {"@type": HCM_TYPE, "stat_prefix": name,
           "route_config": {"name": name, "virtual_hosts": [
               {"name": name, "domains": ["*"],
                "routes": [{"match": {"prefix": "/"}, "route": {"cluster": cluster}}]}]},
           "http_filters": [{"name": "envoy.filters.http.router",
                             "typed_config": {"@type": ROUTER_TYPE}}]}
    hcm.update(hcm_extra)
    chain = {"filters": [{"name": "envoy.filters.network.http_connection_manager",
                          "typed_config": hcm}]}
    if transport_socket:
        chain["transport_socket"] = transport_socket
    return {"name": name, "address": addr(ip, port), "bind_to_port": False,
            "filter_chains": [chain]}


class InterceptionTest(NetnsPods):
    prefix = "weft-intercept-"

    @classmethod
    def setUpClass(cls):
        cls.ns_a, cls.ns_b = "weft-a-%d" % os.getpid(), "weft-b-%d" % os.getpid()
        cls.start(cls.ns_a)
        try:
            cls.setup_network()
            cls.setup_pki()
            cls.start_pods()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def setup_network(cls):
        cls.add_namespace(cls.ns_b)
        veth_a, veth_b = "wa%d" % (os.getpid() % 100000), "wb%d" % (os.getpid() % 100000)
        sh("ip", "link", "add", veth_a, "type", "veth", "peer", "name", veth_b)
        sh("ip", "link", "set", veth_a, "netns", cls.ns_a)
        sh("ip", "link", "set", veth_b, "netns", cls.ns_b)
        cls.address_pod(cls.ns_a, veth_a, POD_A)
        cls.address_pod(cls.ns_b, veth_b, POD_B)

    @classmethod
    def setup_pki(cls):
        pki = Pki(cls.dir)
        cls.ca = pki.ca_cert
        cls.cert_a = pki.issue("client", uri=TRUST + "client", ips=(POD_A,))
        cls.cert_b = pki.issue("echo", uri=TRUST + "echo", ips=(POD_B,))
        for path in os.listdir(cls.dir):
            if path.endswith((".pem", ".key")):
                os.chmod(os.path.join(cls.dir, path), 0o644)  # the proxies run as UID 1337

    @classmethod
    def write_config(cls, name, config):
        path = os.path.join(cls.dir, name + ".json")
        with open(path, "w") as f:
            json.dump(config, f)
        os.chmod(path, 0o644)
        return path

    @classmethod
    def start_pods(cls):
        cert_a, key_a = cls.cert_a
        cert_b, key_b = cls.cert_b
        proxy_a = {
            "node": {"id": "client.shop", "cluster": "client"},
            "admin": {"address": addr("127.0.0.1", 15000)},
            "static_resources": {
                "listeners": [
                    passthrough_listener("outbound", 15001),
                    virtual_http_listener("%s_80" % SERVICE_IP, SERVICE_IP, 80, "outbound|80||echo")],
                "clusters": [
                    ORIGINAL_DST,
                    {"name": "outbound|80||echo", "type": "STATIC", "connect_timeout": "1s",
                     "load_assignment": {"cluster_name": "outbound|80||echo", "endpoints": [
                         {"lb_endpoints": [{"endpoint": {"address": addr(POD_B, 8080)}}]}]},
                     "transport_socket": upstream_tls(cert=cert_a, key=key_a, ca=cls.ca,
                                                      peer_uris=[TRUST + "echo"])}]}}
        proxy_b = {
            "node": {"id": "echo.shop", "cluster": "echo"},
            "admin": {"address": addr("127.0.0.1", 15000)},
            "static_resources": {
                "listeners": [
                    passthrough_listener("inbound", 15006),
                    virtual_http_listener(
                        "inbound|8080", POD_B, 8080, "inbound|8080||",
                        transport_socket=downstream_tls(cert=cert_b, key=key_b, ca=cls.ca,
                                                        peer_uris=[TRUST + "client"]),
                        forward_client_cert_details="SANITIZE_SET",
                        set_current_client_cert_details={"uri": True})],
                "clusters": [
                    ORIGINAL_DST,
                    {"name": "inbound|8080||", "type": "STATIC", "connect_timeout": "1s",
                     "load_assignment": {"cluster_name": "inbound|8080||", "endpoints": [
                         {"lb_endpoints": [{"endpoint": {"address": addr("127.0.0.1", 8080)}}]}]}}]}}
        for ns in (cls.ns_a, cls.ns_b):
            init = sh("ip", "netns", "exec", ns, PROXY_BIN, "init", "--proxy-uid", str(UID),
                      "--exclude-inbound-ports", "15020", check=False)
            if init.returncode != 0:
                raise AssertionError("weft-proxy init: " + init.stdout + init.stderr)
        cls.spawn(cls.ns_b, ["python3", BACKEND, "--port", "8080", "--host", "0.0.0.0",
                             "--name", "echo"], name="echo-app")
        cls.spawn(cls.ns_b, ["python3", BACKEND, "--port", "9000", "--host", "0.0.0.0",
                             "--banner"], name="banner-app")
        cls.spawn(cls.ns_a, [cls.proxy_bin, "-c", cls.write_config("proxy-a", proxy_a),
                             "--concurrency", "1"], uid=UID, name="proxy-a")
        cls.spawn(cls.ns_b, [cls.proxy_bin, "-c", cls.write_config("proxy-b", proxy_b),
                             "--concurrency", "1"], uid=UID, name="proxy-b")
        for ns in (cls.ns_a, cls.ns_b):
            cls.wait_for(lambda: cls.in_pod(ns, ["curl", "-sf", "http://127.0.0.1:15000/ready"])
                         .returncode == 0, "the proxy in " + ns)
        cls.wait_for(lambda: cls.in_pod(cls.ns_b, ["curl", "-sf", "http://127.0.0.1:8080/"])
                     .returncode == 0, "the echo app")

    def metrics(self, ns):
        return self.in_pod(ns, ["curl", "-s", "http://127.0.0.1:15000/stats/prometheus"]).stdout

    def test_service_ip_call_goes_through_both_proxies_over_mtls(self):
        before_a = metric_sum(self.metrics(self.ns_a), "weft_tls_handshakes_total")
        out = self.in_pod(self.ns_a, ["curl", "-s", "--max-time", "10",
                                      "http://%s/headers" % SERVICE_IP])
        self.assertEqual(out.returncode, 0, out.stderr)
        headers = json.loads(out.stdout)
        # B's proxy terminated mTLS and saw A's SPIFFE identity.
        self.assertIn("URI=" + TRUST + "client", headers.get("x-forwarded-client-cert", ""))
        text_a, text_b = self.metrics(self.ns_a), self.metrics(self.ns_b)
        self.assertGreaterEqual(metric_sum(text_a, "weft_tls_handshakes_total") - before_a, 1)
        self.assertGreaterEqual(metric_sum(text_b, "weft_tls_handshakes_total"), 1)
        self.assertGreaterEqual(metric_sum(text_a, "weft_upstream_rq_total",
                                           cluster="outbound|80||echo"), 1)
        self.assertGreaterEqual(metric_sum(text_b, "weft_upstream_rq_total",
                                           cluster="inbound|8080||"), 1)

    def test_plaintext_to_the_pod_is_intercepted_and_refused(self):
        # The proxy's UID bypasses A's rules: a plaintext request straight to
        # B still lands in B's proxy, whose listener for :8080 demands mTLS.
        out = self.in_pod(self.ns_a, ["curl", "-s", "--max-time", "5",
                                      "http://%s:8080/" % POD_B], uid=UID)
        self.assertNotEqual(out.returncode, 0)
        self.assertNotIn("echo", out.stdout)

    def test_unknown_destination_passes_through_as_tcp(self):
        # No listener for POD_B:9000 anywhere: A passes it through, B's inbound
        # passthrough delivers it to the app (its own connection not re-intercepted).
        script = ("import socket; s = socket.create_connection(('%s', 9000), timeout=5); "
                  "print(s.recv(64).decode().strip())" % POD_B)
        out = self.in_pod(self.ns_a, ["python3", "-c", script])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(out.stdout.strip(), "no banner through the passthrough")
        text_b = self.metrics(self.ns_b)
        self.assertGreaterEqual(metric_sum(text_b, "weft_downstream_cx_total", listener="inbound"), 1)

    def test_init_rules_exclude_the_proxy_uid_and_are_idempotent(self):
        rules = self.in_pod(self.ns_a, ["iptables-save", "-t", "nat"]).stdout
        self.assertIn("--uid-owner %d -j RETURN" % UID, rules)
        self.assertIn("--dport 15020 -j RETURN", rules)
        again = self.in_pod(self.ns_a, [PROXY_BIN, "init", "--proxy-uid", str(UID),
                                        "--exclude-inbound-ports", "15020"])
        self.assertEqual(again.returncode, 0, again.stderr)
        after = self.in_pod(self.ns_a, ["iptables-save", "-t", "nat"]).stdout
        self.assertEqual(after.count("-j WEFT_OUTPUT"), 1)
        self.assertEqual(after.count("-j WEFT_INBOUND"), 1)


if __name__ == "__main__":
    unittest.main()
