"""A StatefulSet's peer mesh under STRICT (Kafka-, etcd-, Cassandra-style):
three injected members behind a headless Service, each in its own network
namespace with its sidecar, finding the others by their per-pod DNS names
(peers-N.peers.shop.svc.cluster.local, from the pod's /etc/hosts as kube-dns
would answer) and reaching them at their pod IPs, over mTLS. Then the set
moves: a member is replaced (a new pod, same name, a new IP), and what was
open between the others stays open."""

import json
import os
import signal
import subprocess
import unittest

from harness import ROOT, metric_sum
from mesh_pods import MeshPods
from netns import UID

CONTROL = "10.78.1.9"
FIRST_IPS = {"peers-0": "10.78.1.1", "peers-1": "10.78.1.2", "peers-2": "10.78.1.3"}
REPLACED_IP = "10.78.1.4"  # peers-2 after its pod is replaced
BACKEND = os.path.join(ROOT, "e2e", "backend.py")
PEER_PROBE = os.path.join(ROOT, "e2e", "peer_probe.py")
TRUST = "spiffe://cluster.local/ns/shop/sa/"
SERVICE = "peers.shop.svc.cluster.local"

MESH_HEAD = """
apiVersion: v1
kind: Service
metadata: {name: peers, namespace: shop}
spec:
  clusterIP: None
  ports: [{name: tcp-peer, port: 7000}, {name: http, port: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: peers-x1
  namespace: shop
  labels: {kubernetes.io/service-name: peers}
addressType: IPv4
ports: [{name: tcp-peer, port: 7000}, {name: http, port: 8080}]
endpoints:
"""
MEMBER = """- addresses: [%(ip)s]
  hostname: %(name)s
  conditions: {ready: %(ready)s}
  targetRef: {kind: Pod, name: %(name)s, namespace: shop}
"""
MESH_TAIL = """---
apiVersion: weft.dev/v1alpha1
kind: MeshConfig
metadata: {name: mesh, namespace: weft-system}
spec:
  mtls: {mode: STRICT}
"""


def mesh(ips, ready=None):
    members = "".join(MEMBER % {"ip": ip, "name": name,
                                "ready": "true" if ready is None or name in ready else "false"}
                      for name, ip in sorted(ips.items()))
    return MESH_HEAD + members + MESH_TAIL


def dns_name(member):
    return "%s.peers.shop.svc.cluster.local" % member


class StatefulSetMeshTest(MeshPods):
    prefix = "weft-statefulset-"

    @classmethod
    def setUpClass(cls):
        pid = os.getpid()
        cls.ns = {name: "weft-s%s-%d" % (name[-1], pid) for name in FIRST_IPS}
        cls.ips = dict(FIRST_IPS)
        cls.start(cls.ns["peers-0"])
        try:
            cls.connect_pods("weft-sc-%d" % pid, CONTROL,
                             [(cls.ns[name], ip) for name, ip in sorted(cls.ips.items())])
            cls.publish_names()
            cls.start_control(mesh(cls.ips), ["peers"])
            cls.sidecars, cls.apps = {}, {}
            for name in sorted(cls.ips):
                cls.start_member(name)
            cls.wait_for_sidecars(cls.ns.values())
            cls.wait_for_apps(sorted(cls.ips))
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def publish_names(cls):
        """Every member resolves every member, and the Service's name to all of them."""
        for ns in cls.ns.values():
            cls.resolve_in(ns, {dns_name(name): ip for name, ip in cls.ips.items()})

    @classmethod
    def start_member(cls, name):
        ns = cls.ns[name]
        cls.start_pod(ns, name, cls.ips[name], "peers")
        cls.sidecars[name] = cls.procs[-1]
        cls.apps[name] = [
            cls.spawn(ns, ["python3", BACKEND, "--port", "7000", "--host", "0.0.0.0",
                           "--banner", "--banner-name", name], name=name + "-peer-port"),
            cls.spawn(ns, ["python3", BACKEND, "--port", "8080", "--host", "0.0.0.0",
                           "--name", name], name=name + "-http")]

    @classmethod
    def wait_for_apps(cls, names):
        probe = ("import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])),"
                 " timeout=2).close()")
        for name in names:
            cls.wait_for(lambda: all(cls.in_pod(cls.ns[name], ["python3", "-c", probe, str(port)])
                                     .returncode == 0 for port in (7000, 8080)),
                         "the apps of " + name)

    def probe_peers(self, member, peers):
        out = self.in_pod(self.ns[member], ["python3", PEER_PROBE, "--tcp-port", "7000",
                                            "--http-port", "8080"] + [dns_name(p) for p in peers],
                          timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr + self.logs())
        return json.loads(out.stdout)

    def assert_reached_over_mtls(self, member, peer, result):
        self.assertEqual(result.get("greeting"), "220 %s ready" % peer,
                         "%s -> %s: %s\n%s" % (member, peer, result, self.logs()))
        self.assertEqual(result.get("name"), peer, result)
        # The member's sidecar terminated mTLS: the caller's SPIFFE identity, from the CA.
        self.assertIn("URI=" + TRUST + "peers", result["headers"].get("x-forwarded-client-cert"))

    def test_every_member_reaches_every_other_by_its_pod_name_over_mtls(self):
        for member in sorted(self.ips):
            peers = [p for p in sorted(self.ips) if p != member]
            results = self.probe_peers(member, peers)
            for peer in peers:
                self.assert_reached_over_mtls(member, peer, results[dns_name(peer)])
        for member in sorted(self.ips):
            text = self.metrics(self.ns[member])
            for caller in sorted(self.ips):
                if caller == member:
                    continue
                # Both ports, at the member's sidecar, from each other member's,
                # metadata exchanged: Istio's labels name both pods.
                self.assertGreaterEqual(metric_sum(
                    text, "istio_tcp_connections_opened_total", reporter="destination",
                    source_workload=caller, destination_workload=member,
                    destination_service=SERVICE, connection_security_policy="mutual_tls"), 1,
                    "%s -> %s TCP" % (caller, member))
                self.assertGreaterEqual(metric_sum(
                    text, "istio_requests_total", reporter="destination", source_workload=caller,
                    destination_service=SERVICE, response_code="200",
                    connection_security_policy="mutual_tls"), 2, "%s -> %s HTTP" % (caller, member))
        # The caller side counts the member's own cluster.
        self.assertGreaterEqual(metric_sum(
            self.metrics(self.ns["peers-0"]), "weft_upstream_rq_total",
            cluster="outbound|8080|%s|%s" % (self.ips["peers-1"], SERVICE)), 2)

    def test_plaintext_to_a_member_is_refused(self):
        # The proxy's UID bypasses the caller's rules: plaintext straight to a
        # member's peer port still lands in its sidecar, which demands mTLS.
        script = ("import socket; s = socket.create_connection(('%s', 7000), timeout=3); "
                  "print(s.recv(64))" % self.ips["peers-1"])
        out = self.in_pod(self.ns["peers-0"], ["python3", "-c", script], uid=UID)
        self.assertNotIn("peers-1 ready", out.stdout)

    def test_a_replaced_member_is_found_at_its_new_ip_and_open_connections_survive(self):
        # A connection peers-0 holds open to peers-1 across every push below.
        holder = subprocess.Popen(
            ["ip", "netns", "exec", self.ns["peers-0"], "python3", "-u", "-c",
             "import socket, sys\n"
             "s = socket.create_connection(('%s', 7000), timeout=30)\n"
             "print(s.recv(64).decode().strip())\n"
             "for line in sys.stdin:\n"
             "    s.sendall(line.encode()); print(s.recv(64).decode().strip())\n"
             % dns_name("peers-1")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(holder.stdout.readline().strip(), "220 peers-1 ready")
            # peers-2's pod goes: not ready, then deleted (sidecar and apps stop).
            self.write_config(mesh(self.ips, ready={"peers-0", "peers-1"}))
            self.wait_for(lambda: "greeting" not in self.probe_peers(
                "peers-0", ["peers-2"])[dns_name("peers-2")], "peers-2 out of peers-0's config")
            for proc in [self.sidecars["peers-2"]] + self.apps["peers-2"]:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=10)
            # Its replacement: the same name, a new IP, a new sidecar.
            ns = self.ns["peers-2"]
            dev = self.in_pod(ns, ["ip", "-o", "link", "show", "type", "veth"]).stdout
            dev = dev.split(":")[1].strip().split("@")[0]
            self.in_pod(ns, ["ip", "addr", "flush", "dev", dev])
            self.in_pod(ns, ["ip", "addr", "add", REPLACED_IP + "/24", "dev", dev])
            self.in_pod(ns, ["ip", "route", "replace", "10.96.0.0/16", "dev", dev])
            self.ips["peers-2"] = REPLACED_IP
            self.publish_names()
            self.write_config(mesh(self.ips))
            self.start_member("peers-2")
            self.wait_for_sidecars([ns])
            self.wait_for_apps(["peers-2"])
            self.wait_for(lambda: self.probe_peers("peers-0", ["peers-2"])[dns_name(
                "peers-2")].get("greeting") == "220 peers-2 ready", "peers-2 at its new IP")
            for member in ("peers-0", "peers-1"):
                result = self.probe_peers(member, ["peers-2"])[dns_name("peers-2")]
                self.assert_reached_over_mtls(member, "peers-2", result)
            self.assert_reached_over_mtls(
                "peers-2", "peers-0", self.probe_peers("peers-2", ["peers-0"])[dns_name("peers-0")])
            # Two pushes and a new member later, the first connection still carries bytes.
            holder.stdin.write("still here\n")
            holder.stdin.flush()
            self.assertEqual(holder.stdout.readline().strip(), "still here")
        finally:
            holder.stdin.close()
            holder.wait(timeout=10)


if __name__ == "__main__":
    unittest.main()
