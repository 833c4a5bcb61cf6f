"""weft-injector over real HTTPS: AdmissionReview fixtures shaped like
kube-apiserver's, the returned JSON Patch applied by a real kubectl
(`kubectl patch --local`), the result checked field by field and compared
with `weftctl inject` on the same pod; bad input; certificate reload."""

import base64
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from harness import INJECTOR_BIN, KUBECTL, PROXY_BIN, WEFTCTL_BIN, Pki, free_port, metric_sum

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "admission")


def fixture(name):
    with open(os.path.join(FIXTURES, name + ".json")) as f:
        return json.load(f)


class Injector:
    def __init__(self, directory, cert, key, config_text=None):
        self.port = free_port()
        args = [INJECTOR_BIN, "--address", "127.0.0.1", "--port", str(self.port),
                "--tls-cert-file", cert, "--tls-key-file", key, "--cert-poll-ms", "100"]
        if config_text is not None:
            config = os.path.join(directory, "injector-%d.yaml" % self.port)
            with open(config, "w") as f:
                f.write(config_text)
            args += ["--config", config]
        self.log_path = os.path.join(directory, "injector-%d.log" % self.port)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


class InjectorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="weft-injector-")
        cls.pki = Pki(cls.dir)
        cls.cert, cls.key = cls.pki.issue("webhook")
        cls.injector = Injector(cls.dir, cls.cert, cls.key)
        cls.fallback = Injector(cls.dir, cls.cert, cls.key,
                                "nativeSidecar: false\nproxyImage: registry.example/weft-proxy:dev\n")
        cls.tls = ssl.create_default_context(cafile=cls.pki.ca_cert)
        for injector in (cls.injector, cls.fallback):
            cls.wait_ready(injector)

    @classmethod
    def tearDownClass(cls):
        cls.injector.stop()
        cls.fallback.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def wait_ready(cls, injector):
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if cls.call(injector, "GET", "/ready")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("weft-injector did not start: " + open(injector.log_path).read())

    @classmethod
    def call(cls, injector, method, path, body=None):
        request = urllib.request.Request(
            "https://127.0.0.1:%d%s" % (injector.port, path), method=method,
            data=body if body is None or isinstance(body, bytes) else body.encode(),
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, context=cls.tls, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def admit(self, review, path="/inject", injector=None):
        status, body = self.call(injector or self.injector, "POST", path, json.dumps(review))
        self.assertEqual(status, 200, body)
        answer = json.loads(body)
        self.assertEqual(answer["apiVersion"], "admission.k8s.io/v1")
        self.assertEqual(answer["kind"], "AdmissionReview")
        response = answer["response"]
        self.assertEqual(response["uid"], review["request"]["uid"])
        self.assertIs(response["allowed"], True)
        return response

    def kubectl_patch(self, pod, patch):
        """The patch applied by a real kubectl, offline."""
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=self.dir, delete=False) as f:
            json.dump(pod, f)
        out = subprocess.run(
            [KUBECTL, "patch", "--local", "--type=json", "-f", f.name, "-p", json.dumps(patch),
             "-o", "json"], capture_output=True, text=True,
            env={"PATH": os.environ.get("PATH", ""), "HOME": self.dir,
                 "KUBECONFIG": os.path.join(self.dir, "no-kubeconfig")})
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def inject(self, name, path="/inject", injector=None):
        review = fixture(name)
        response = self.admit(review, path, injector)
        self.assertEqual(response.get("patchType"), "JSONPatch", response)
        patch = json.loads(base64.b64decode(response["patch"]))
        return review["request"]["object"], self.kubectl_patch(review["request"]["object"], patch)

    def weftctl_inject(self, pod, config_text=None):
        args = [WEFTCTL_BIN, "inject", "-f", "-"]
        if config_text is not None:
            config = os.path.join(self.dir, "weftctl-injector.yaml")
            with open(config, "w") as f:
                f.write(config_text)
            args += ["--config", config]
        out = subprocess.run(args, input=json.dumps(pod), capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        # weftctl writes YAML: kubectl reads it back into JSON for the comparison.
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=self.dir, delete=False) as f:
            f.write(out.stdout)
        back = subprocess.run(
            [KUBECTL, "patch", "--local", "--type=json", "-f", f.name, "-p", "[]", "-o", "json"],
            capture_output=True, text=True,
            env={"PATH": os.environ.get("PATH", ""), "HOME": self.dir,
                 "KUBECONFIG": os.path.join(self.dir, "no-kubeconfig")})
        self.assertEqual(back.returncode, 0, back.stderr)
        return json.loads(back.stdout)

    def containers(self, pod, field):
        return {c["name"]: c for c in pod["spec"].get(field, [])}

    def env(self, container):
        return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}

    def test_replicaset_pod_gets_a_native_sidecar(self):
        before, pod = self.inject("replicaset-pod")
        init = pod["spec"]["initContainers"]
        self.assertEqual([c["name"] for c in init], ["weft-init", "weft-proxy"])
        proxy = init[1]
        self.assertEqual(proxy["restartPolicy"], "Always")
        self.assertEqual(proxy["startupProbe"]["httpGet"], {"path": "/ready", "port": 15020})
        self.assertEqual(proxy["securityContext"]["runAsUser"], 1337)
        self.assertIs(proxy["securityContext"]["runAsNonRoot"], True)
        self.assertIs(proxy["securityContext"]["readOnlyRootFilesystem"], True)
        self.assertEqual(proxy["securityContext"]["capabilities"], {"drop": ["ALL"]})
        self.assertEqual(init[0]["securityContext"]["capabilities"]["add"], ["NET_ADMIN", "NET_RAW"])
        env = self.env(proxy)
        self.assertEqual(env["WEFT_POD_NAME"], {"fieldRef": {"fieldPath": "metadata.name"}})
        self.assertEqual(env["WEFT_POD_IP"], {"fieldRef": {"fieldPath": "status.podIP"}})
        self.assertEqual(env["WEFT_SERVICE_ACCOUNT"],
                         {"fieldRef": {"fieldPath": "spec.serviceAccountName"}})
        self.assertEqual(env["WEFT_XDS_ADDRESS"], "weft-control.weft-system.svc:15010")
        self.assertEqual(proxy["resources"], {"requests": {"cpu": "100m", "memory": "128Mi"},
                                              "limits": {"cpu": "2", "memory": "1Gi"}})
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        self.assertIn("kube-api-access-7x2kq", volumes)  # the pod's own volumes stay
        token = volumes["weft-token"]["projected"]["sources"][0]["serviceAccountToken"]
        self.assertEqual(token["audience"], "weft")
        self.assertEqual(volumes["weft-runtime"]["emptyDir"], {"medium": "Memory"})
        # The files the variables name are where the volumes are mounted.
        mounts = {m["name"]: m["mountPath"] for m in proxy["volumeMounts"]}
        self.assertEqual(env["WEFT_CA_ROOT_CERT"], mounts["weft-ca-root"] + "/root-cert.pem")
        self.assertEqual(env["WEFT_CA_TOKEN_FILE"], mounts["weft-token"] + "/weft-token")
        # What the injector writes is what `weft-proxy sidecar` reads: the
        # container's args and variables (downward API filled in as the kubelet
        # would; the Service names swapped for loopback) build a bootstrap.
        filled = {"WEFT_POD_NAME": "web-7d9f-abcde", "WEFT_POD_NAMESPACE": "shop",
                  "WEFT_POD_IP": "10.244.1.7", "WEFT_SERVICE_ACCOUNT": "web",
                  "WEFT_XDS_ADDRESS": "localhost:15010", "WEFT_CA_ADDRESS": "localhost:15012"}
        variables = {k: v for k, v in env.items() if isinstance(v, str)}
        variables.update(filled)
        self.assertEqual(set(env) - set(variables), set())
        built = subprocess.run([PROXY_BIN, *proxy["args"], "--print-bootstrap"],
                               env={"PATH": os.environ.get("PATH", ""), **variables},
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(built.returncode, 0, built.stderr)
        node = json.loads(built.stdout)["node"]
        self.assertEqual(node["id"], "web-7d9f-abcde.shop")
        self.assertEqual(node["metadata"]["SERVICE_ACCOUNT"], "web")
        self.assertEqual(node["metadata"]["POD_IP"], "10.244.1.7")
        # The trust bundle weft-control publishes in every namespace.
        self.assertEqual(volumes["weft-ca-root"]["configMap"], {"name": "weft-ca-root-cert"})
        annotations = pod["metadata"]["annotations"]
        status = json.loads(annotations["weft.dev/status"])
        self.assertEqual(status["version"], "0.1.0")
        self.assertEqual(status["initContainers"], ["weft-init", "weft-proxy"])
        self.assertEqual(annotations["prometheus.io/port"], "15020")
        self.assertEqual(annotations["prometheus.io/path"], "/stats/prometheus")
        # The app container and the pod's security context are untouched.
        self.assertEqual(pod["spec"]["containers"], before["spec"]["containers"])
        self.assertEqual(pod["spec"]["securityContext"], before["spec"]["securityContext"])

    def test_existing_init_containers_and_annotations(self):
        before, pod = self.inject("pod-with-init-containers")
        self.assertEqual([c["name"] for c in pod["spec"]["initContainers"]],
                         ["weft-init", "weft-proxy", "migrate"])
        self.assertEqual([v["name"] for v in pod["spec"]["volumes"]],
                         ["kube-api-access-7x2kq", "cache", "weft-runtime", "weft-token",
                          "weft-ca-root"])
        args = self.containers(pod, "initContainers")["weft-init"]["args"]
        flags = dict(zip(args[1::2], args[2::2]))
        self.assertEqual(flags["--exclude-outbound-ports"], "5432")
        self.assertEqual(flags["--exclude-outbound-cidrs"], "169.254.169.254/32")
        self.assertEqual(flags["--exclude-inbound-ports"], "15020")
        proxy = self.containers(pod, "initContainers")["weft-proxy"]
        self.assertEqual(proxy["resources"]["requests"]["cpu"], "300m")
        self.assertNotIn("cpu", proxy["resources"].get("limits", {}))
        annotations = pod["metadata"]["annotations"]
        self.assertEqual(annotations["kubectl.kubernetes.io/restartedAt"], "2026-11-20T09:12:44Z")
        self.assertIn("weft.dev/status", annotations)

    def test_weftctl_inject_equals_the_webhook(self):
        for name in ("replicaset-pod", "pod-with-init-containers", "job-pod", "opted-in"):
            before, webhook = self.inject(name)
            self.assertEqual(self.weftctl_inject(before), webhook, name)
        config = "nativeSidecar: false\nproxyImage: registry.example/weft-proxy:dev\n"
        before, webhook = self.inject("job-pod", injector=self.fallback)
        self.assertEqual(self.weftctl_inject(before, config), webhook)

    def test_pods_left_alone(self):
        cases = [("opted-out", "/inject"), ("already-injected", "/inject"),
                 ("host-network", "/inject"), ("unlabelled-namespace", "/inject/opt-in"),
                 ("service", "/inject")]
        for name, path in cases:
            response = self.admit(fixture(name), path)
            self.assertNotIn("patch", response, name)
        text = self.call(self.injector, "GET", "/metrics")[1]
        for reason in ("opted_out", "already_injected", "host_network", "not_opted_in",
                       "not_a_pod"):
            self.assertGreaterEqual(metric_sum(text, "weft_injector_skips_total", reason=reason), 1,
                                    reason)

    def test_opt_in_outside_labelled_namespaces(self):
        before, pod = self.inject("opted-in", "/inject/opt-in")
        self.assertEqual(pod["spec"]["initContainers"][1]["name"], "weft-proxy")

    def test_injecting_twice_changes_nothing(self):
        before, pod = self.inject("replicaset-pod")
        again = fixture("replicaset-pod")
        again["request"]["object"] = pod
        response = self.admit(again)
        self.assertNotIn("patch", response)
        self.assertEqual(self.weftctl_inject(pod), pod)

    def test_job_pods_both_shapes(self):
        # Native sidecar: the kubelet ends the proxy once the app's container
        # is done, so the Job completes with nothing more.
        before, native = self.inject("job-pod")
        self.assertEqual(self.containers(native, "initContainers")["weft-proxy"]["restartPolicy"],
                         "Always")
        self.assertNotIn("shareProcessNamespace", native["spec"])
        # Regular container: the proxy goes first, holds the app until ready
        # (postStart), and sees the app exit through the shared PID namespace.
        before, fallback = self.inject("job-pod", injector=self.fallback)
        containers = fallback["spec"]["containers"]
        self.assertEqual([c["name"] for c in containers], ["weft-proxy", "app"])
        proxy = containers[0]
        self.assertNotIn("restartPolicy", proxy)
        self.assertEqual(proxy["image"], "registry.example/weft-proxy:dev")
        self.assertEqual(proxy["lifecycle"]["postStart"]["exec"]["command"][:2],
                         ["/usr/local/bin/weft-proxy", "wait"])
        self.assertEqual(self.env(proxy)["WEFT_EXIT_WITH_APP"], "true")
        self.assertIs(fallback["spec"]["shareProcessNamespace"], True)
        self.assertEqual([c["name"] for c in fallback["spec"]["initContainers"]], ["weft-init"])
        # A long-running pod in the fallback shape keeps its own PID namespace.
        before, service_pod = self.inject("replicaset-pod", injector=self.fallback)
        self.assertNotIn("shareProcessNamespace", service_pod["spec"])

    def test_bad_input_is_400_with_a_message(self):
        review = fixture("replicaset-pod")
        wrong_version = dict(review, apiVersion="admission.k8s.io/v1beta1")
        no_object = json.loads(json.dumps(review))
        del no_object["request"]["object"]
        cases = [("this is not json", "not JSON"),
                 (json.dumps({"kind": "Pod", "apiVersion": "v1"}), "not an AdmissionReview"),
                 (json.dumps(wrong_version), "only admission.k8s.io/v1"),
                 (json.dumps(no_object), "request.object is missing")]
        for body, message in cases:
            status, text = self.call(self.injector, "POST", "/inject", body)
            self.assertEqual(status, 400, body)
            self.assertIn(message, text)
        status, _ = self.call(self.injector, "POST", "/inject", b"\xff" * 100000)
        self.assertEqual(status, 400)
        self.assertEqual(self.call(self.injector, "GET", "/inject")[0], 405)
        # A pod no API server sends (no spec: the patch could not apply) is allowed
        # untouched and counted as a skip.
        broken = fixture("replicaset-pod")
        del broken["request"]["object"]["spec"]
        response = self.admit(broken)
        self.assertTrue(response["allowed"])
        self.assertNotIn("patch", response)
        # A bad annotation: allowed untouched, the warning names it.
        bad = fixture("replicaset-pod")
        bad["request"]["object"]["metadata"]["annotations"] = {"weft.dev/proxy-memory": "plenty"}
        response = self.admit(bad)
        self.assertNotIn("patch", response)
        self.assertIn("weft.dev/proxy-memory: 'plenty'", response["warnings"][0])
        text = self.call(self.injector, "GET", "/metrics")[1]
        self.assertGreaterEqual(metric_sum(text, "weft_injector_errors_total", reason="bad_request"),
                                5)
        self.assertGreaterEqual(metric_sum(text, "weft_injector_skips_total", reason="malformed_pod"),
                                1)
        self.assertIsNone(self.injector.proc.poll(), "the injector must survive bad input")

    def test_garbage_and_half_requests_do_not_crash_it(self):
        for payload in (b"\x16\x03\x01\x00\x05hello", b"GET / HTTP/1.1\r\n\r\n", b"\x00" * 4096):
            with socket.create_connection(("127.0.0.1", self.injector.port), timeout=5) as s:
                s.sendall(payload)
                try:
                    s.recv(1024)
                except OSError:
                    pass
        self.assertEqual(self.call(self.injector, "GET", "/ready")[0], 200)

    def test_certificate_reloaded_when_files_change(self):
        directory = tempfile.mkdtemp(prefix="reload-", dir=self.dir)
        cert = os.path.join(directory, "tls.crt")
        key = os.path.join(directory, "tls.key")
        shutil.copy(self.cert, cert)
        shutil.copy(self.key, key)
        injector = Injector(directory, cert, key)
        try:
            self.wait_ready(injector)
            first = self.peer_certificate(injector.port)
            # A renewed Secret: both files replaced (new key, new certificate).
            new_cert, new_key = self.pki.issue("webhook-renewed")
            shutil.copy(new_key, key + ".tmp")
            shutil.copy(new_cert, cert + ".tmp")
            os.rename(key + ".tmp", key)
            os.rename(cert + ".tmp", cert)
            with open(new_cert, "rb") as f:
                expected = ssl.PEM_cert_to_DER_cert(f.read().decode())
            deadline = time.time() + 10
            while time.time() < deadline and self.peer_certificate(injector.port) != expected:
                time.sleep(0.05)
            self.assertNotEqual(first, expected)
            self.assertEqual(self.peer_certificate(injector.port), expected)
            text = self.call(injector, "GET", "/metrics")[1]
            self.assertEqual(metric_sum(text, "weft_injector_certificate_reloads_total"), 1)
        finally:
            injector.stop()

    def peer_certificate(self, port):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with self.tls.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                return s.getpeercert(binary_form=True)


if __name__ == "__main__":
    unittest.main()
