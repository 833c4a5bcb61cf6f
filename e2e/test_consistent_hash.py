"""Sticky users through two sidecars under STRICT mTLS: a DestinationPolicy
with loadBalancer RING_HASH or MAGLEV and a consistentHash on a header, a
cookie (made up and set on the first response) or the client's IP. The same
key always reaches the same endpoint, through pushes that keep the endpoints;
keys spread within 10% over three endpoints; an endpoint that fails its
readiness probe takes only its own keys with it, and they come back with it."""

import collections
import http.client
import os
import threading
import time

from harness import Backend
from service_pods import STRICT_MESH
from test_mesh_mtls import MeshFixture
from test_xds import write

SERVICE = """
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  ports: [{name: http, port: 80, targetPort: %(port)d}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: sticky-slice
  labels: {kubernetes.io/service-name: sticky}
addressType: IPv4
ports: [{name: http, port: %(port)d}]
endpoints:
"""

ENDPOINT = """- addresses: [%(ip)s]
  conditions: {ready: %(ready)s}
  targetRef: {kind: Pod, name: %(pod)s, namespace: default}
"""

POLICY = """
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: sticky}
spec:
  targetRef: {kind: Service, name: sticky}
  loadBalancer: %(lb)s
  consistentHash: %(hash)s
  connectionPool: {maxConnections: %(max_connections)d}
"""

PODS = {"sticky-0": ("127.0.41.1", "127.0.42.1"), "sticky-1": ("127.0.41.2", "127.0.42.2"),
        "sticky-2": ("127.0.41.3", "127.0.42.3")}
KEYS = 3000  # binomial spread of 3,000 keys over 3: sd 26, a tenth of the share is 100


class ConsistentHashTest(MeshFixture):
    """client-0 -> mTLS -> sticky-0 / sticky-1 / sticky-2 sidecars -> their apps."""

    SERVICE_ACCOUNTS = ("sticky",)

    def write_config(self):
        self.write_endpoints()
        self.write_policy("RING_HASH", "{httpHeaderName: x-user, ringHash: {minimumRingSize: 16384}}")

    def write_endpoints(self, unready=()):
        """The three endpoints, `unready` ones failing their readiness probe
        (clients stop sending to them; their sidecars keep serving)."""
        text = STRICT_MESH + SERVICE % {"port": self.port}
        for pod, (ip, _) in PODS.items():
            text += ENDPOINT % {"ip": ip, "pod": pod,
                                "ready": "false" if pod in unready else "true"}
        write(os.path.join(self.config, "mesh.yaml"), text)

    def write_policy(self, lb, hash_on, max_connections=100):
        write(os.path.join(self.config, "policy.yaml"),
              POLICY % {"lb": lb, "hash": hash_on, "max_connections": max_connections})

    def start_pods(self):
        self.apps = {pod: Backend(pod, host=app_ip, port=self.port)
                     for pod, (_, app_ip) in PODS.items()}
        for pod, (_, app_ip) in PODS.items():
            self.sidecar(pod + ".default", "sticky", "tok-sticky", APP_IP=app_ip)

    def stop_apps(self):
        for app in self.apps.values():
            app.stop()

    def setUp(self):
        super().setUp()
        self.conn = None
        self.wait_for(lambda: len(self.answers_for({"x-user": "probe"}, 6)) == 1,
                      "the ring-hash policy to apply")

    def tearDown(self):
        if self.conn is not None:
            self.conn.close()
        super().tearDown()

    def get(self, headers=None, source=None):
        """One request through the client sidecar: (status, backend, response headers)."""
        if source is not None:  # a client of its own address: a new connection
            conn = http.client.HTTPConnection("127.0.0.1", self.out_port, timeout=10,
                                              source_address=(source, 0))
        else:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.out_port, timeout=10)
            conn = self.conn
        try:
            conn.request("GET", "/", headers={"Host": "sticky", **(headers or {})})
            resp = conn.getresponse()
            resp.read()
            return resp.status, resp.getheader("x-backend"), resp.getheaders()
        except (OSError, http.client.HTTPException):
            conn.close()
            if conn is self.conn:
                self.conn = None
            raise
        finally:
            if source is not None:
                conn.close()

    def answers_for(self, headers, count):
        """The set of (status, backend) `count` requests with `headers` got."""
        return {self.get(headers)[:2] for _ in range(count)}

    def sets_cookie(self):
        return any(k.lower() == "set-cookie" for k, _ in self.get()[2])

    def key_backends(self, keys):
        """user key -> the set of backends its requests reached."""
        seen = collections.defaultdict(set)
        for key in keys:
            status, backend, _ = self.get({"x-user": key})
            self.assertEqual(status, 200)
            seen[key].add(backend)
        return dict(seen)

    def mapping(self, keys):
        seen = self.key_backends(keys)
        for key, backends in seen.items():
            self.assertEqual(len(backends), 1, "%s reached %s" % (key, backends))
        return {key: next(iter(b)) for key, b in seen.items()}

    def assert_spread(self, mapping, backends):
        share = collections.Counter(mapping.values())
        print("\n  %d keys over %s" % (len(mapping), dict(sorted(share.items()))))
        expected = len(mapping) / len(backends)
        for backend in backends:
            self.assertLess(abs(share[backend] - expected), expected / 10,
                            "share %s of %d keys" % (dict(share), len(mapping)))

    def test_header_hash_sticks_through_pushes_and_an_endpoint_flap(self):
        users = ["user-%d" % i for i in range(KEYS)]
        ring = self.mapping(users)
        self.assert_spread(ring, PODS)
        self.assertEqual(self.mapping(users[:300]), {u: ring[u] for u in users[:300]})

        # Pushes that keep the endpoints, while a second client keeps asking:
        # every answer for a key is from the endpoint it had.
        errors, answers = [], []
        stop = threading.Event()

        def keep_asking():
            conn = http.client.HTTPConnection("127.0.0.1", self.out_port, timeout=10)
            for i in range(20000):
                if stop.is_set():
                    break
                user = users[i % 300]
                try:
                    conn.request("GET", "/", headers={"Host": "sticky", "x-user": user})
                    resp = conn.getresponse()
                    resp.read()
                    answers.append((user, resp.status, resp.getheader("x-backend")))
                except (OSError, http.client.HTTPException) as e:
                    errors.append(repr(e))
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.out_port, timeout=10)
            conn.close()

        asker = threading.Thread(target=keep_asking, daemon=True)
        asker.start()
        try:
            for max_connections in (50, 60, 70, 80):
                self.write_policy("RING_HASH", "{httpHeaderName: x-user, ringHash: "
                                  "{minimumRingSize: 16384}}", max_connections)
                time.sleep(0.4)
        finally:
            stop.set()
            asker.join(timeout=30)
        print("  %d answers during 4 pushes" % len(answers))
        self.assertEqual(errors, [])
        self.assertGreater(len(answers), 100)
        wrong = [(u, s, b) for u, s, b in answers if s != 200 or b != ring[u]]
        self.assertEqual(wrong, [])

        # Maglev: nearly every key of the two endpoints that stay stays.
        self.write_policy("MAGLEV", "{httpHeaderName: x-user}")
        self.wait_for(lambda: self.mapping(users[:50]) != {u: ring[u] for u in users[:50]},
                      "the Maglev table to apply")
        maglev = self.mapping(users)
        self.assert_spread(maglev, PODS)
        self.write_endpoints(unready=("sticky-2",))
        self.wait_for(lambda: "sticky-2" not in self.mapping(users[:100]).values(),
                      "sticky-2 to leave")
        two = self.mapping(users)
        self.assertNotIn("sticky-2", two.values())
        stayed = [u for u in users if maglev[u] != "sticky-2"]
        moved = [u for u in stayed if two[u] != maglev[u]]
        print("  sticky-2 left: %d of %d other keys moved" % (len(moved), len(stayed)))
        self.assertLess(len(moved), len(stayed) / 50)
        # It comes back: the same table, every key where it was.
        self.write_endpoints()
        self.wait_for(lambda: "sticky-2" in self.mapping(users[:30]).values(),
                      "sticky-2 to come back")
        self.assertEqual(self.mapping(users), maglev)

    def test_a_made_up_cookie_and_the_source_ip_stick(self):
        self.write_policy("RING_HASH", "{httpCookie: {name: weft-affinity, path: /, ttl: 1h}}")
        self.wait_for(self.sets_cookie, "the cookie policy to apply")
        clients = collections.Counter()
        for _ in range(60):
            status, first, headers = self.get()
            self.assertEqual(status, 200)
            cookies = [v for k, v in headers if k.lower() == "set-cookie"]
            self.assertEqual(len(cookies), 1, headers)
            self.assertRegex(cookies[0],
                             r'^weft-affinity="[0-9a-f]{16}"; Max-Age=3600; Path=/; HttpOnly$')
            pair = cookies[0].split(";")[0]
            for _ in range(5):  # the browser sends it back
                status, again, headers = self.get({"Cookie": "theme=dark; " + pair})
                self.assertEqual((status, again), (200, first))
                self.assertFalse(any(k.lower() == "set-cookie" for k, _ in headers))
            clients[first] += 1
        print("\n  60 cookie clients over %s" % dict(clients))
        self.assertEqual(len(clients), 3)  # made-up values spread

        self.write_policy("MAGLEV", "{useSourceIp: true}")
        sources = ["127.0.43.%d" % i for i in range(1, 61)]
        self.wait_for(lambda: not self.sets_cookie(), "the source-IP policy to apply")
        by_source = collections.Counter()
        for source in sources:
            backends = {self.get(source=source)[1] for _ in range(4)}
            self.assertEqual(len(backends), 1, "%s reached %s" % (source, backends))
            by_source[backends.pop()] += 1
        print("  60 client addresses over %s" % dict(by_source))
        self.assertEqual(len(by_source), 3)
