"""weft-control's Kubernetes API source against a stand-in API server
(e2e/fake_apiserver.py) serving recorded, real-shaped objects over HTTPS with
a bearer token: list, watch with bookmarks, relist after 410 Gone, and the
result driving a real weft-proxy. No kube-apiserver runs on these machines;
this is the closest honest substitute."""

import base64
import copy
import http.client
import json
import os
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.request

import fake_apiserver
from harness import (Backend, CONTROL_BIN, Proxy, free_port, metric_sum, wait_for,
                     xds_bootstrap)

HERE = os.path.dirname(os.path.abspath(__file__))
ROUTES = "/apis/gateway.networking.k8s.io/v1/httproutes"


def fake_cluster(directory, port):
    """The stand-in API server over HTTPS and a kubeconfig for it: (server, kubeconfig)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    api_port = free_port()
    api = fake_apiserver.start(
        api_port, os.path.join(HERE, "fixtures/kube"),
        {"@V1_IP@": "127.0.40.1", "@V2_IP@": "127.0.40.2", "@PORT@": port},
        token="test-token", cert=cert, key=key)
    with open(cert, "rb") as f:
        ca = base64.b64encode(f.read()).decode()
    kubeconfig = os.path.join(directory, "kubeconfig")
    with open(kubeconfig, "w") as f:
        f.write("""apiVersion: v1
kind: Config
current-context: test
contexts: [{name: test, context: {cluster: fake, user: weft}}]
clusters: [{name: fake, cluster: {server: "https://127.0.0.1:%d", certificate-authority-data: %s}}]
users: [{name: weft, user: {token: test-token}}]
""" % (api_port, ca))
    return api, kubeconfig


def api_post(api_port, path, body):
    """POST to the stand-in's /_test/ endpoints; the parsed answer."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    req = urllib.request.Request("https://127.0.0.1:%d%s" % (api_port, path),
                                 data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(req, context=context, timeout=5) as resp:
        return json.loads(resp.read())


class KubeSourceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="weft-kube-")
        cls.port = free_port()
        cls.v1 = Backend("v1", host="127.0.40.1", port=cls.port)
        cls.v2 = Backend("v2", host="127.0.40.2", port=cls.port)
        cls.api, cls.kubeconfig = fake_cluster(cls.dir, cls.port)
        cls.api_port = cls.api.server_address[1]
        cls.xds_port, cls.admin_port = free_port(), free_port()
        cls.log = open(os.path.join(cls.dir, "control.log"), "w")
        cls.control = subprocess.Popen(
            [CONTROL_BIN, "--kubeconfig", cls.kubeconfig, "--xds-address",
             "127.0.0.1:%d" % cls.xds_port, "--admin-port", str(cls.admin_port),
             "--debounce-ms", "50"], stdout=cls.log, stderr=subprocess.STDOUT)
        cls.out_port = free_port()
        cls.client = Proxy(xds_bootstrap("client-0.default", free_port(), cls.xds_port,
                                         OUTBOUND_PORT=cls.out_port)).wait_ready(20)

    @classmethod
    def tearDownClass(cls):
        cls.client.stop()
        cls.control.terminate()
        cls.control.wait(10)
        cls.log.close()
        cls.api.shutdown()
        cls.v1.stop()
        cls.v2.stop()

    def body(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.out_port, timeout=5)
        conn.request("GET", "/", headers={"Host": "echo"})
        return conn.getresponse().read()

    def wait_body(self, expected, timeout=15):
        deadline = time.time() + timeout
        got = None
        while time.time() < deadline:
            got = self.body()
            if got == expected:
                return
            time.sleep(0.05)
        with open(self.log.name) as f:
            log = f.read()
        self.fail("expected %r, got %r\n%s" % (expected, got, log[-3000:]))

    def test_1_list_then_watch_drives_the_proxy(self):
        self.wait_body(b"v1")  # the recorded HTTPRoute: 100/0
        self.set_weights(0, 100)  # a MODIFIED event on the open watch
        self.wait_body(b"v2")

    def test_2_relists_after_410_gone(self):
        lists_before = self.api.state.lists[ROUTES]
        self.post("/_test/compact", {})  # ends every watch; resuming from it gives 410
        self.set_weights(100, 0)
        self.wait_body(b"v1")
        self.assertGreater(self.api.state.lists[ROUTES], lists_before)
        with open(self.log.name) as f:
            self.assertIn("is gone (410); relisting", f.read())

    def test_3_bookmarks_keep_the_watch_current(self):
        time.sleep(2.5)  # the fake server sends a BOOKMARK every second
        self.set_weights(0, 100)
        self.wait_body(b"v2")

    def test_4_rejected_credentials_back_off(self):
        bad = os.path.join(self.dir, "kubeconfig-bad")
        with open(self.kubeconfig) as f, open(bad, "w") as out:
            out.write(f.read().replace("token: test-token", "token: wrong"))
        log_path = os.path.join(self.dir, "control-bad.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [CONTROL_BIN, "--kubeconfig", bad, "--xds-address", "127.0.0.1:%d" % free_port(),
                 "--admin-port", str(free_port())], stdout=log, stderr=subprocess.STDOUT)
            time.sleep(3.5)
            proc.terminate()
            proc.wait(10)
        with open(log_path) as f:
            text = f.read()
        self.assertIn("HTTP 401", text)
        self.assertIn("retrying in 1 s", text)
        self.assertIn("retrying in 2 s", text)

    def test_5_status_is_written_onto_the_objects(self):
        """Route and policy status through the status subresource: written once
        the proxy ACKs, rewritten after its NACK and after the fix, never in a
        loop, and another controller's entry left as it was."""
        with self.api.state.lock:
            route = copy.deepcopy(self.api.state.objects[ROUTES]["default/echo-canary"])
        route["status"] = {"parents": [{
            "parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "edge"},
            "controllerName": "example.com/gateway-controller",
            "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted",
                            "message": "", "observedGeneration": 1,
                            "lastTransitionTime": "2026-11-20T10:00:03Z"}]}]}
        self.post("/_test/apply", {"path": ROUTES, "object": route})

        def ours(path, key):
            obj = self.post("/_test/object", {"path": path, "key": key})
            for parent in obj.get("status", {}).get("parents", []):
                if parent["controllerName"] == "weft.dev/mesh":
                    return obj, {c["type"]: c for c in parent["conditions"]}
            return obj, {c["type"]: c for c in obj.get("status", {}).get("conditions", [])}

        def route_programmed():
            obj, conditions = ours(ROUTES, "default/echo-canary")
            c = conditions.get("weft.dev/Programmed", {})
            return c.get("status") == "True" and c.get("observedGeneration") == \
                obj["metadata"]["generation"]
        self.wait_for(route_programmed, "the route's status")
        obj, conditions = ours(ROUTES, "default/echo-canary")
        self.assertEqual(conditions["Accepted"]["reason"], "Accepted")
        self.assertEqual(conditions["ResolvedRefs"]["reason"], "ResolvedRefs")
        self.assertEqual(conditions["weft.dev/Programmed"]["message"],
                         "1 of 1 proxies have ACKed it")
        self.assertEqual(obj["status"]["parents"][0]["controllerName"],
                         "example.com/gateway-controller")  # kept, first
        self.assertEqual(obj["status"]["parents"][1]["parentRef"],
                         {"group": "", "kind": "Service", "name": "echo", "port": 80})

        # A policy the proxy refuses (a CA bundle path it does not have): NACKed.
        services, policies = "/api/v1/services", "/apis/weft.dev/v1alpha1/destinationpolicies"
        self.post("/_test/apply", {"path": services, "object": {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "partner", "namespace": "default"},
            "spec": {"type": "ExternalName", "externalName": "localhost",
                     "ports": [{"name": "https", "port": 443}]}}})
        policy = {"apiVersion": "weft.dev/v1alpha1", "kind": "DestinationPolicy",
                  "metadata": {"name": "partner", "namespace": "default"},
                  "spec": {"targetRef": {"name": "partner"},
                           "tls": {"mode": "SIMPLE", "caCertificates": "/nonexistent/ca.pem"}}}
        self.post("/_test/apply", {"path": policies, "object": policy})

        def policy_condition(reason):
            _, conditions = ours(policies, "default/partner")
            return conditions.get("Programmed", {}).get("reason") == reason
        self.wait_for(lambda: policy_condition("Nacked"), "the policy's NACK in its status")
        _, conditions = ours(policies, "default/partner")
        self.assertEqual(conditions["Accepted"]["status"], "True")
        self.assertIn("client-0.default", conditions["Programmed"]["message"])
        self.assertIn("cannot read '/nonexistent/ca.pem'", conditions["Programmed"]["message"])
        nacked_at = conditions["Programmed"]["lastTransitionTime"]

        # Fixed (the system bundle every proxy has): programmed, generation 2.
        with self.api.state.lock:
            policy = copy.deepcopy(self.api.state.objects[policies]["default/partner"])
        del policy["spec"]["tls"]["caCertificates"]
        self.post("/_test/apply", {"path": policies, "object": policy})
        self.wait_for(lambda: policy_condition("Programmed"), "the fix in the policy's status")
        obj, conditions = ours(policies, "default/partner")
        self.assertEqual(obj["metadata"]["generation"], 2)
        self.assertEqual(conditions["Programmed"]["observedGeneration"], 2)
        self.assertGreaterEqual(conditions["Programmed"]["lastTransitionTime"], nacked_at)

        # Settled: no more writes (each write is a watch event; none may cause another).
        time.sleep(1.5)
        writes = len(self.post("/_test/status_writes", {})["writes"])
        time.sleep(3)
        after = self.post("/_test/status_writes", {})["writes"]
        self.assertEqual(len(after), writes, json.dumps(after[writes:], indent=1)[:3000])

    def wait_for(self, predicate, what, timeout=20):
        wait_for(predicate, what, timeout,
                 details=lambda: open(self.log.name).read()[-3000:])

    def set_weights(self, v1, v2):
        with self.api.state.lock:
            route = copy.deepcopy(self.api.state.objects[ROUTES]["default/echo-canary"])
        route["spec"]["rules"][0]["backendRefs"][0]["weight"] = v1
        route["spec"]["rules"][0]["backendRefs"][1]["weight"] = v2
        self.post("/_test/apply", {"path": ROUTES, "object": route})

    def post(self, path, body):
        return api_post(self.api_port, path, body)


if __name__ == "__main__":
    unittest.main()


class KubeCaTest(unittest.TestCase):
    """The mesh CA in a cluster: a workload proves its service account with a
    projected token, checked through TokenReview on the (stand-in) API server."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="weft-kube-ca-")
        self.api, kubeconfig = fake_cluster(self.dir, free_port())
        self.api.service_accounts["projected-token-of-client"] = ("default", "client")
        self.ca_port, self.admin_port = free_port(), free_port()
        self.kubeconfig = kubeconfig
        self.log = open(os.path.join(self.dir, "control.log"), "w")
        self.xds_port = free_port()
        self.start_control("--data-dir", os.path.join(self.dir, "ca"))
        self.proxies = []

    def start_control(self, *ca_store):
        self.control = subprocess.Popen(
            [CONTROL_BIN, "--kubeconfig", self.kubeconfig, "--xds-address",
             "127.0.0.1:%d" % self.xds_port, "--admin-port", str(self.admin_port),
             "--ca-address", "127.0.0.1:%d" % self.ca_port, *ca_store],
            stdout=self.log, stderr=subprocess.STDOUT)

    def stop_control(self):
        self.control.terminate()
        self.control.wait(10)

    def tearDown(self):
        for p in self.proxies:
            p.stop()
        self.stop_control()
        self.log.close()
        self.api.shutdown()

    def metric(self, name, **labels):
        deadline = time.time() + 10
        while True:  # the control plane may still be starting
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/ready" % self.admin_port, timeout=5)
                break
            except OSError:
                self.assertLess(time.time(), deadline, "weft-control did not start")
                time.sleep(0.05)
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.admin_port,
                                    timeout=5) as resp:
            return metric_sum(resp.read().decode(), name, **labels)

    def api_post(self, path, body):
        return api_post(self.api.server_address[1], path, body)

    def sidecar(self, pod, sa, token, root=None, xds_port=None, ca_port=None):
        token_file = os.path.join(self.dir, pod + ".token")
        with open(token_file, "w") as f:
            f.write(token)
        deadline = time.time() + 10
        while not root and not os.path.exists(os.path.join(self.dir, "ca", "ca.pem")):
            self.assertLess(time.time(), deadline, "the CA did not write its root")
            time.sleep(0.05)
        proxy = Proxy(xds_bootstrap(pod + ".default", free_port(), xds_port or self.xds_port,
                                    SERVICE_ACCOUNT=sa),
                      extra_args=["--ca-address", "127.0.0.1:%d" % (ca_port or self.ca_port),
                                  "--ca-root-cert", root or os.path.join(self.dir, "ca",
                                                                         "ca.pem"),
                                  "--ca-token-file", token_file])
        self.proxies.append(proxy)
        return proxy.wait_ready(20)

    def wait_for(self, predicate, what, timeout=15):
        wait_for(predicate, what, timeout, interval=0.05)

    def test_root_certificate_published_in_every_namespace(self):
        def configmaps():
            return self.api_post("/_test/configmaps", {})

        def published():
            return sorted(configmaps()["objects"])
        expected = ["default/weft-ca-root-cert", "kube-system/weft-ca-root-cert",
                    "shop/weft-ca-root-cert"]  # not the Terminating namespace
        self.wait_for(lambda: published() == expected, "the ConfigMaps in every namespace")
        objects = configmaps()["objects"]
        with open(os.path.join(self.dir, "ca", "ca.pem")) as f:
            root = f.read()
        for key in expected:
            self.assertEqual(objects[key]["data"]["root-cert.pem"].strip(), root.strip())
            self.assertEqual(objects[key]["metadata"]["labels"],
                             {"app.kubernetes.io/managed-by": "weft-control"})
        # A namespace created later gets it from the watch.
        self.api_post("/_test/apply", {"path": "/api/v1/namespaces", "object": {
            "metadata": {"name": "payments", "uid": "0c8f6a4e-1b7d-4f52-8a3e-6d2b9c1e7f05",
                         "labels": {"kubernetes.io/metadata.name": "payments"}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}})
        self.wait_for(lambda: "payments/weft-ca-root-cert" in published(), "the new namespace")
        # Deleted by someone: put back on the next relist (forced here by compaction).
        writes_before = len(configmaps()["writes"])
        self.api_post("/_test/configmap/delete", {"key": "shop/weft-ca-root-cert"})
        self.api_post("/_test/compact", {})
        self.wait_for(lambda: "shop/weft-ca-root-cert" in published(), "the repaired ConfigMap")
        # Only the missing one is written again; the current ones are left alone.
        self.assertEqual(configmaps()["writes"][writes_before:],
                         [["POST", "shop/weft-ca-root-cert"]])
        # What a pod mounts is enough for its sidecar to reach the CA.
        mounted = os.path.join(self.dir, "mounted-root-cert.pem")
        with open(mounted, "w") as f:
            f.write(configmaps()["objects"]["shop/weft-ca-root-cert"]["data"]["root-cert.pem"])
        self.api.service_accounts["projected-token-of-web"] = ("default", "web")
        web = self.sidecar("web-0", "web", "projected-token-of-web", root=mounted)
        self.wait_for(lambda: web.metric("weft_tls_certificate_expiry_timestamp_seconds") > 0,
                      "the certificate of the sidecar using the published root")

    def test_ca_root_kept_in_a_secret_survives_a_restart(self):
        self.stop_control()
        self.start_control("--ca-secret", "weft-system/weft-ca")
        self.metric("weft_ca_certificates_issued_total")  # waits for /ready

        def secrets():
            return self.api_post("/_test/secrets", {})

        def published_root():
            objects = self.api_post("/_test/configmaps", {})["objects"]
            cm = objects.get("default/weft-ca-root-cert")
            return cm and cm["data"]["root-cert.pem"]
        self.wait_for(published_root, "the published root")
        stored = secrets()
        self.assertEqual(stored["writes"], [["POST", "weft-system/weft-ca"]])
        secret = stored["objects"]["weft-system/weft-ca"]
        self.assertEqual(secret["type"], "Opaque")
        root = base64.b64decode(secret["data"]["ca.crt"]).decode()
        self.assertIn("PRIVATE KEY", base64.b64decode(secret["data"]["ca.key"]).decode())
        self.assertEqual(published_root().strip(), root.strip())
        # A restarted weft-control signs with the same root: nothing is rewritten.
        writes = len(self.api_post("/_test/configmaps", {})["writes"])
        self.stop_control()
        self.start_control("--ca-secret", "weft-system/weft-ca")
        self.metric("weft_ca_certificates_issued_total")
        self.assertEqual(secrets()["writes"], [["POST", "weft-system/weft-ca"]])
        time.sleep(0.5)
        self.assertEqual(len(self.api_post("/_test/configmaps", {})["writes"]), writes)
        mounted = os.path.join(self.dir, "root-from-secret.pem")
        with open(mounted, "w") as f:
            f.write(root)
        self.api.service_accounts["projected-token-of-web"] = ("default", "web")
        web = self.sidecar("web-0", "web", "projected-token-of-web", root=mounted)
        self.wait_for(lambda: web.metric("weft_tls_certificate_expiry_timestamp_seconds") > 0,
                      "a certificate from the restarted CA")
        # A Secret without the keys is refused by name, not replaced.
        self.stop_control()
        self.api_post("/_test/secret/put", {"key": "weft-system/weft-ca", "object": {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "weft-ca", "namespace": "weft-system"}, "data": {}}})
        self.start_control("--ca-secret", "weft-system/weft-ca")
        self.assertNotEqual(self.control.wait(20), 0)
        self.log.flush()
        with open(os.path.join(self.dir, "control.log")) as f:
            self.assertIn("Secret weft-system/weft-ca has no base64 data.ca.crt and data.ca.key",
                          f.read())

    def test_two_replicas_share_one_root_and_both_serve(self):
        # The chart's default: two weft-control replicas starting together on
        # one API server. One root (one Secret), one ConfigMap per namespace,
        # no write fight, and each replica's CA and xDS serve with that root.
        self.stop_control()
        # Slow reads make it likely that both replicas find no Secret and no
        # ConfigMaps before either writes, so both create and 409s decide
        # (how often is printed; the outcome must be the same either way).
        self.api_post("/_test/read_delay", {"seconds": 0.3})
        replicas = []
        try:
            for i in range(2):
                ports = {"xds": free_port(), "ca": free_port(), "admin": free_port()}
                log = open(os.path.join(self.dir, "control-%d.log" % i), "w")
                replicas.append((subprocess.Popen(
                    [CONTROL_BIN, "--kubeconfig", self.kubeconfig,
                     "--xds-address", "127.0.0.1:%d" % ports["xds"],
                     "--ca-address", "127.0.0.1:%d" % ports["ca"],
                     "--admin-port", str(ports["admin"]), "--ca-secret", "weft-system/weft-ca"],
                    stdout=log, stderr=subprocess.STDOUT), ports, log))
            expected = ["default/weft-ca-root-cert", "kube-system/weft-ca-root-cert",
                        "shop/weft-ca-root-cert"]
            self.wait_for(lambda: sorted(self.api_post("/_test/configmaps", {})["objects"])
                          == expected, "the ConfigMaps in every namespace")
            secrets = self.api_post("/_test/secrets", {})
            self.assertEqual(secrets["writes"], [["POST", "weft-system/weft-ca"]])
            root = base64.b64decode(secrets["objects"]["weft-system/weft-ca"]["data"]["ca.crt"])
            time.sleep(1)  # both replicas past their first publish and relist
            configmaps = self.api_post("/_test/configmaps", {})
            for key in expected:
                self.assertEqual(configmaps["objects"][key]["data"]["root-cert.pem"].strip(),
                                 root.decode().strip(), key)
            # Each written once, by whichever replica got there first.
            self.assertEqual(sorted(configmaps["writes"]), [["POST", key] for key in expected])
            print("409s between the replicas: %d Secret, %d ConfigMap"
                  % (len(secrets["conflicts"]), len(configmaps["conflicts"])))
            mounted = os.path.join(self.dir, "root-of-both.pem")
            with open(mounted, "wb") as f:
                f.write(root)
            self.api.service_accounts["projected-token-of-web"] = ("default", "web")
            for i, (_, ports, _) in enumerate(replicas):
                web = self.sidecar("web-%d" % i, "web", "projected-token-of-web", root=mounted,
                                   xds_port=ports["xds"], ca_port=ports["ca"])
                self.wait_for(lambda: web.metric(
                    "weft_tls_certificate_expiry_timestamp_seconds") > 0,
                    "a certificate from replica %d" % i)
            # Status: each replica counts only its own proxies (two on replica
            # 0, one on replica 1), so only the Lease holder writes; the route's
            # status settles instead of flipping between "2 of 2" and "1 of 1".
            self.sidecar("web-2", "web", "projected-token-of-web", root=mounted,
                         xds_port=replicas[0][1]["xds"], ca_port=replicas[0][1]["ca"])

            def route_programmed():
                writes = self.api_post("/_test/status_writes", {})["writes"]
                return any(key == "default/echo-canary" and "ACKed it" in json.dumps(status)
                           for _, key, status in writes)
            self.wait_for(route_programmed, "the route's status")
            time.sleep(2)
            writes = len(self.api_post("/_test/status_writes", {})["writes"])
            time.sleep(3)
            self.assertEqual(len(self.api_post("/_test/status_writes", {})["writes"]), writes)
            leases = self.api_post("/_test/leases", {})
            self.assertEqual(list(leases["objects"]), ["weft-system/weft-control-status"])
            holder = leases["objects"]["weft-system/weft-control-status"]["spec"]["holderIdentity"]
            pids = [str(proc.pid) for proc, _, _ in replicas]
            self.assertIn(holder.rsplit("_", 1)[1], pids)
        finally:
            for proc, _, log in replicas:
                proc.terminate()
                proc.wait(10)
                log.close()

    def test_token_review_proves_the_service_account(self):
        client = self.sidecar("client-0", "client", "projected-token-of-client")
        self.wait_for(lambda: client.metric("weft_tls_certificate_expiry_timestamp_seconds") > 0,
                      "the client's certificate")
        self.assertEqual(self.metric("weft_ca_certificates_issued_total"), 1)
        # A token the API server does not know proves nothing.
        forger = self.sidecar("forger-0", "client", "not-a-real-token")
        self.wait_for(lambda: self.metric("weft_ca_requests_refused_total",
                                          reason="unauthenticated") >= 1, "the refusal")
        self.assertEqual(forger.metric("weft_tls_certificate_expiry_timestamp_seconds"), 0)
        self.wait_for(lambda: "grpc-status 16" in forger.output(),  # UNAUTHENTICATED
                      "the proxy to log the refusal")
