"""The Helm chart with a real Helm (3.17, from npm via tools/setup): lint,
render with default and non-default values, the webhook configuration's
selectors and caBundle, deploy/weft.yaml equal to the default render, and a
certificate from deploy/gen-webhook-cert.sh serving a real TLS handshake."""

import base64
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

import yaml

from harness import HELM, INJECTOR_BIN, ROOT, WEFTCTL_BIN, free_port

CHART = os.path.join(ROOT, "deploy", "helm", "weft")


def helm(*args):
    out = subprocess.run([HELM, *args], capture_output=True, text=True,
                         env={"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir(),
                              "HELM_CACHE_HOME": os.path.join(tempfile.gettempdir(), "weft-helm")})
    if out.returncode != 0:
        raise AssertionError("helm %s: %s" % (" ".join(args), out.stderr))
    return out.stdout


def render(*values):
    args = ["template", "weft", CHART, "--namespace", "weft-system", "--include-crds"]
    for v in values:
        args += ["--set", v]
    text = helm(*args)
    return text, [d for d in yaml.safe_load_all(text) if d]


def inject_with(config_text):
    """weftctl inject with the rendered injector config: it must parse."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(config_text)
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a}]}\n"
    out = subprocess.run([WEFTCTL_BIN, "inject", "-f", "-", "--config", f.name], input=pod,
                         capture_output=True, text=True)
    os.unlink(f.name)
    if out.returncode != 0:
        raise AssertionError("the rendered injector config: " + out.stderr)
    return yaml.safe_load(out.stdout)


def find(docs, kind, name):
    for d in docs:
        if d["kind"] == kind and d["metadata"]["name"] == name:
            return d
    raise AssertionError("no %s %s rendered" % (kind, name))


class HelmChartTest(unittest.TestCase):
    def test_lint(self):
        out = helm("lint", CHART, "--strict")
        self.assertIn("1 chart(s) linted, 0 chart(s) failed", out)

    def test_default_render(self):
        text, docs = render()
        kinds = sorted({d["kind"] for d in docs})
        self.assertEqual(kinds, sorted(
            ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "CustomResourceDefinition",
             "Deployment", "MeshConfig", "MutatingWebhookConfiguration", "PodDisruptionBudget",
             "Role", "RoleBinding", "Service", "ServiceAccount"]))
        crds = {d["metadata"]["name"]: d for d in docs if d["kind"] == "CustomResourceDefinition"}
        self.assertEqual(sorted(crds), ["authorizationpolicies.weft.dev",
                                        "destinationpolicies.weft.dev", "meshconfigs.weft.dev"])
        for crd in crds.values():
            schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
            self.assertEqual(schema["type"], "object")
            self.assertIn("spec", schema["properties"])
        webhook = find(docs, "MutatingWebhookConfiguration", "weft-injector")
        first = webhook["webhooks"][0]
        # Labelled namespaces, never the system ones: failurePolicy Fail must
        # not hold kube-system's pods hostage to the injector.
        self.assertEqual(first["namespaceSelector"]["matchLabels"], {"weft.dev/inject": "enabled"})
        self.assertEqual(first["namespaceSelector"]["matchExpressions"], [{
            "key": "kubernetes.io/metadata.name", "operator": "NotIn",
            "values": ["kube-system", "kube-public", "kube-node-lease", "weft-system"]}])
        self.assertEqual(first["failurePolicy"], "Fail")
        self.assertEqual(first["reinvocationPolicy"], "Never")
        self.assertEqual(first["sideEffects"], "None")
        self.assertEqual(first["admissionReviewVersions"], ["v1"])
        self.assertEqual(first["clientConfig"]["service"]["path"], "/inject")
        self.assertIn("caBundle", first["clientConfig"])
        second = webhook["webhooks"][1]
        self.assertEqual(second["clientConfig"]["service"]["path"], "/inject/opt-in")
        self.assertEqual(second["failurePolicy"], "Ignore")
        exprs = {e["key"]: e for e in second["namespaceSelector"]["matchExpressions"]}
        self.assertEqual(exprs["weft.dev/inject"]["operator"], "DoesNotExist")
        self.assertIn("kube-system", exprs["kubernetes.io/metadata.name"]["values"])
        role = find(docs, "ClusterRole", "weft-control")
        verbs = {(g, r): rule["verbs"] for rule in role["rules"]
                 for g in rule["apiGroups"] for r in rule["resources"]}
        self.assertEqual(verbs[("authentication.k8s.io", "tokenreviews")], ["create"])
        for key in [("", "services"), ("discovery.k8s.io", "endpointslices"),
                    ("gateway.networking.k8s.io", "httproutes"), ("weft.dev", "meshconfigs")]:
            self.assertIn("watch", verbs[key], key)
        # The trust bundle goes to every namespace; the CA's Secret stays in weft-system.
        self.assertEqual(verbs[("", "configmaps")], ["get", "create", "update"])
        self.assertIn("watch", verbs[("", "namespaces")])
        self.assertNotIn(("", "secrets"), verbs)
        ca_role = find(docs, "Role", "weft-control-ca")
        self.assertEqual(ca_role["metadata"]["namespace"], "weft-system")
        self.assertEqual(ca_role["rules"], [{"apiGroups": [""], "resources": ["secrets"],
                                             "verbs": ["get", "create"]},
                                            {"apiGroups": ["coordination.k8s.io"],
                                             "resources": ["leases"],
                                             "verbs": ["get", "create", "update"]}])
        # Status: patched through the status subresources only.
        for key in [("gateway.networking.k8s.io", "httproutes/status"),
                    ("gateway.networking.k8s.io", "grpcroutes/status"),
                    ("weft.dev", "destinationpolicies/status"),
                    ("weft.dev", "authorizationpolicies/status"),
                    ("weft.dev", "meshconfigs/status")]:
            self.assertEqual(verbs[key], ["patch"], key)
        self.assertNotIn("patch", verbs[("gateway.networking.k8s.io", "httproutes")])
        args = find(docs, "Deployment", "weft-control")["spec"]["template"]["spec"][
            "containers"][0]["args"]
        self.assertEqual(args[args.index("--ca-secret") + 1], "weft-system/weft-ca")
        config = yaml.safe_load(find(docs, "ConfigMap", "weft-injector")["data"]["config.yaml"])
        self.assertEqual(config["proxyImage"], "ghcr.io/weft-mesh/weft-proxy:0.1.0")
        self.assertIs(config["nativeSidecar"], True)
        pod = inject_with(find(docs, "ConfigMap", "weft-injector")["data"]["config.yaml"])
        self.assertEqual(pod["spec"]["initContainers"][1]["image"],
                         "ghcr.io/weft-mesh/weft-proxy:0.1.0")
        # Every container weft runs asks for CPU and memory: the scheduler
        # places it, and a node under pressure does not evict it first.
        containers = [c for d in docs if d["kind"] == "Deployment"
                      for c in d["spec"]["template"]["spec"]["containers"]]
        containers += pod["spec"]["initContainers"]
        self.assertEqual(len(containers), 4)  # control, injector, weft-init, weft-proxy
        for container in containers:
            self.assertEqual(sorted(container["resources"]["requests"]), ["cpu", "memory"],
                             container["name"])
        mesh = find(docs, "MeshConfig", "mesh")
        self.assertEqual(mesh["spec"]["mtls"]["mode"], "PERMISSIVE")
        for name in ("weft-control", "weft-injector"):
            # Fail-safe: two replicas, on different nodes where there are
            # some, one always left through a drain.
            deployment = find(docs, "Deployment", name)
            self.assertEqual(deployment["spec"]["replicas"], 2)
            budget = find(docs, "PodDisruptionBudget", name)
            self.assertEqual(budget["spec"], {"minAvailable": 1,
                                              "selector": {"matchLabels": {"app": name}}})
            self.assertEqual(deployment["spec"]["selector"], budget["spec"]["selector"])
            spread = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"][
                "preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
            self.assertEqual(spread["topologyKey"], "kubernetes.io/hostname")
            self.assertEqual(spread["labelSelector"], {"matchLabels": {"app": name}})
            pod = deployment["spec"]["template"]["spec"]
            self.assertIs(pod["securityContext"]["runAsNonRoot"], True)
            container = pod["containers"][0]
            self.assertIs(container["securityContext"]["readOnlyRootFilesystem"], True)
            self.assertEqual(container["securityContext"]["capabilities"], {"drop": ["ALL"]})

    def test_non_default_values(self):
        text, docs = render("image.registry=registry.example/mesh", "image.tag=1.2.3",
                            "mesh.mtlsMode=STRICT", "mesh.trustDomain=prod.example",
                            "injector.nativeSidecar=false", "injector.certificate.generate=true",
                            "injector.optInOutsideLabelledNamespaces=false",
                            "proxy.resources.limits.memory=2Gi",
                            "proxy.excludeOutboundPorts={5432,6379}", "control.replicas=1")
        # One replica: no budget, which would block every drain of its node.
        budgets = [d["metadata"]["name"] for d in docs if d["kind"] == "PodDisruptionBudget"]
        self.assertEqual(budgets, ["weft-injector"])
        webhook = find(docs, "MutatingWebhookConfiguration", "weft-injector")
        self.assertEqual(len(webhook["webhooks"]), 1)
        bundle = base64.b64decode(webhook["webhooks"][0]["clientConfig"]["caBundle"]).decode()
        self.assertIn("BEGIN CERTIFICATE", bundle)
        secret = find(docs, "Secret", "weft-injector-tls")
        self.assertEqual(secret["type"], "kubernetes.io/tls")
        config = yaml.safe_load(find(docs, "ConfigMap", "weft-injector")["data"]["config.yaml"])
        self.assertEqual(config["proxyImage"], "registry.example/mesh/weft-proxy:1.2.3")
        self.assertIs(config["nativeSidecar"], False)
        self.assertEqual(config["trustDomain"], "prod.example")
        self.assertEqual(config["resources"]["limits"]["memory"], "2Gi")
        self.assertEqual(config["excludeOutboundPorts"], [5432, 6379])
        pod = inject_with(find(docs, "ConfigMap", "weft-injector")["data"]["config.yaml"])
        self.assertEqual([c["name"] for c in pod["spec"]["containers"]], ["weft-proxy", "a"])
        self.assertIn("5432,6379", pod["spec"]["initContainers"][0]["args"])
        self.assertEqual(find(docs, "MeshConfig", "mesh")["spec"]["mtls"]["mode"], "STRICT")
        image = find(docs, "Deployment", "weft-control")["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(image["image"], "registry.example/mesh/weft-control:1.2.3")
        # The generated pair serves a real handshake for the webhook's host name.
        directory = tempfile.mkdtemp(prefix="weft-helm-")
        try:
            for key in ("tls.crt", "tls.key"):
                with open(os.path.join(directory, key), "wb") as f:
                    f.write(base64.b64decode(secret["data"][key]))
            with open(os.path.join(directory, "ca.crt"), "w") as f:
                f.write(bundle)
            self.assert_serves(directory, "weft-injector.weft-system.svc")
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def test_the_dashboards_ship_as_grafana_configmap(self):
        _, docs = render()
        dashboards = find(docs, "ConfigMap", "weft-dashboards")
        self.assertEqual(dashboards["metadata"]["labels"]["grafana_dashboard"], "1")
        directory = os.path.join(ROOT, "deploy", "dashboards")
        files = sorted(f for f in os.listdir(directory) if f.endswith(".json"))
        self.assertEqual(sorted(dashboards["data"]), files)
        sys.path.insert(0, directory)
        import make_dashboards
        for name, text in make_dashboards.render().items():
            with open(os.path.join(directory, name)) as f:
                self.assertEqual(f.read(), text,
                                 "deploy/dashboards drifted: run make_dashboards.py")
            self.assertEqual(dashboards["data"][name], text)
        mesh = find(docs, "MeshConfig", "mesh")
        self.assertEqual(mesh["spec"]["accessLog"], {"mode": "Off"})
        _, docs = render("mesh.accessLog=JSON", "dashboards.enabled=false")
        self.assertEqual(find(docs, "MeshConfig", "mesh")["spec"]["accessLog"]["mode"], "JSON")
        self.assertNotIn("weft-dashboards", [d["metadata"]["name"] for d in docs
                                             if d["kind"] == "ConfigMap"])

    def test_plain_manifests_are_the_default_render(self):
        text, _ = render()
        with open(os.path.join(ROOT, "deploy", "weft.yaml")) as f:
            self.assertEqual(f.read(), text, "deploy/weft.yaml drifted: run deploy/render")

    def test_gen_webhook_cert_script(self):
        directory = tempfile.mkdtemp(prefix="weft-cert-")
        try:
            subprocess.run(["bash", os.path.join(ROOT, "deploy", "gen-webhook-cert.sh"),
                            "--namespace", "mesh", "--out", directory], check=True,
                           capture_output=True)
            self.assert_serves(directory, "weft-injector.mesh.svc")
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def assert_serves(self, directory, host):
        port = free_port()
        proc = subprocess.Popen(
            [INJECTOR_BIN, "--address", "127.0.0.1", "--port", str(port), "--tls-cert-file",
             os.path.join(directory, "tls.crt"), "--tls-key-file",
             os.path.join(directory, "tls.key")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            context = ssl.create_default_context(cafile=os.path.join(directory, "ca.crt"))
            deadline = time.time() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                        with context.wrap_socket(raw, server_hostname=host) as s:
                            s.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\n\r\n")
                            self.assertIn(b"200", s.recv(1024))
                            return
                except ConnectionRefusedError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.05)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    unittest.main()
