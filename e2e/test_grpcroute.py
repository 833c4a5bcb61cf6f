"""GRPCRoute through two sidecars under STRICT mTLS, with the gRPC client and
servers built here: method matches (exact service and method, service by
regular expression), header matches, a weighted split with a backendRef
filter, request and response header modifiers, a mirror, a rule without
backends answering UNAVAILABLE; the split edited while calls flow (none
fails); a field weft does not act on named by `weftctl check` and refused at
load while the last good route keeps serving."""

import os
import re
import subprocess
import unittest
import shutil
import tempfile

from harness import ROOT, WEFTCTL_BIN
from service_pods import ServicePodsMesh
from test_xds import write

GRPC_DIR = os.path.join(ROOT, "bazel-bin/e2e/grpc")

ROUTE = r"""
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: greeter-route}
spec:
  parentRefs: [{kind: Service, name: greeter, port: 50051}]
  rules:
  - matches: [{method: {service: weft.test.Echo, method: Bidi}}]
    backendRefs: [{name: greeter-v2, port: 50051}]
  - matches:
    - method: {service: weft.test.Echo, method: Unary}
      headers: [{name: x-retired, value: "1"}]
  - matches:
    - method: {service: weft.test.Echo, method: Unary}
      headers: [{name: x-canary, value: "1"}]
    - method: {service: weft.test.Echo}
      headers: [{name: x-canary, type: RegularExpression, value: "yes|true"}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-track, value: canary}], remove: [x-drop]}
    backendRefs: [{name: greeter-v2, port: 50051}]
  - matches: [{method: {type: RegularExpression, service: "weft\\.test\\..*"}}]
    filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-route, value: split}]}
    - type: RequestMirror
      requestMirror: {backendRef: {name: greeter-shadow, port: 50051}, percent: 100}
    backendRefs:
    - {name: greeter, port: 50051, weight: %(v1)d}
    - name: greeter-v2
      port: 50051
      weight: %(v2)d
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {add: [{name: x-picked, value: v2}]}
"""


class GrpcApp:
    """An echo_server answering with its name."""

    def __init__(self, name, host, port):
        self.proc = subprocess.Popen([os.path.join(GRPC_DIR, "echo_server"), "--host", host,
                                      "--port", str(port), "--name", name],
                                     stdout=subprocess.PIPE)
        self.proc.stdout.readline()  # "listening"

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class GrpcRouteTest(ServicePodsMesh):
    """client-0 -> mTLS -> greeter-0 / greeter-v2-0 / greeter-shadow-0 sidecars -> echo_servers."""

    PODS = {"greeter": ("127.0.24.1", "127.0.25.1"), "greeter-v2": ("127.0.24.2", "127.0.25.2"),
            "greeter-shadow": ("127.0.24.3", "127.0.25.3")}
    SERVICE_PORT = 50051
    PORT_NAME = "grpc"
    APP_PROTOCOL = "grpc"

    def write_routes(self):
        self.write_route(80, 20)

    def write_route(self, v1, v2, text=ROUTE):
        write(os.path.join(self.config, "route.yaml"), text % {"v1": v1, "v2": v2})

    def start_pod_app(self, name, host, port):
        return GrpcApp(name, host, port)

    def setUp(self):
        super().setUp()
        self.wait_for(lambda: "x-route=split" in self.call("--count", "1"),
                      "the GRPCRoute to serve")

    def call(self, *args, mode="unary"):
        out = subprocess.run([os.path.join(GRPC_DIR, "echo_client"), "--target",
                              "127.0.0.1:%d" % self.out_port, "--authority", "greeter:50051",
                              "--mode", mode, "--show-metadata", "1", "--response-header",
                              "x-route", *args], capture_output=True, text=True, timeout=120)
        return out.stdout

    def outcomes(self, *args):
        """{(outcome, frozenset(metadata the server saw), x-route): count}."""
        counts = {}
        for line in self.call(*args).strip().splitlines():
            m = re.match(r"(\d+) ok (\S+) \[(.*)\] x-route=(\S+)$", line)
            if m is None:
                counts[line] = counts.get(line, 0) + 1
                continue
            seen = frozenset(kv for kv in m.group(3).split() if kv.split("=")[0] in
                             ("x-canary", "x-drop", "x-track", "x-picked"))
            key = (m.group(2), seen, m.group(4))
            counts[key] = counts.get(key, 0) + int(m.group(1))
        return counts

    def test_matches_split_filters_and_mirror(self):
        mirrored_before = self.mirrored()
        # No headers: the regex-service rule, split 80/20; greeter-v2 picked
        # gets its backendRef's header; every answer gets the route's.
        counts = self.outcomes("--count", "400")
        self.assertEqual(set(counts), {("greeter", frozenset(), "split"),
                                       ("greeter-v2", frozenset({"x-picked=v2"}), "split")},
                         counts)
        share = counts[("greeter", frozenset(), "split")] / 400
        print("\n  GRPCRoute split: greeter %.1f%% (target 80%%)" % (share * 100))
        self.assertAlmostEqual(share, 0.80, delta=0.07)
        # Every one of them copied to the shadow (percent: 100), which the
        # callers never saw.
        self.wait_for(lambda: self.mirrored() - mirrored_before >= 400, "400 mirrored calls")
        # Method + header (exact): the canary rule, its request filter applied.
        self.assertEqual(self.outcomes("--count", "20", "--header", "x-canary=1", "--header",
                                       "x-drop=1"),
                         {("greeter-v2", frozenset({"x-canary=1", "x-track=canary"}), "-"): 20})
        # Service + header (regex).
        self.assertEqual(self.outcomes("--count", "5", "--header", "x-canary=yes"),
                         {("greeter-v2", frozenset({"x-canary=yes", "x-track=canary"}), "-"): 5})
        # A value the regex refuses: the split, unfiltered.
        counts = self.outcomes("--count", "10", "--header", "x-canary=no")
        self.assertEqual(sum(counts.values()), 10, counts)
        self.assertTrue(all(key[2] == "split" and "x-track=canary" not in key[1]
                            for key in counts), counts)
        # Exact method: every Bidi stream to greeter-v2.
        self.assertEqual(self.call("--count", "20", mode="bidi").strip(), "bidi ok 20 greeter-v2")
        # A rule without backends: UNAVAILABLE.
        out = self.call("--count", "3", "--header", "x-retired=1")
        self.assertEqual(out.strip(), "3 error 14 no backends for this rule of GRPCRoute "
                                      "default/greeter-route")

    def mirrored(self):
        return self.sidecars["greeter-shadow"].metric("istio_requests_total",
                                                      reporter="destination")

    def test_split_edited_while_calls_flow_and_bad_edit_keeps_last_good(self):
        load = subprocess.Popen([os.path.join(GRPC_DIR, "echo_client"), "--target",
                                 "127.0.0.1:%d" % self.out_port, "--authority", "greeter:50051",
                                 "--count", "3000"], stdout=subprocess.PIPE, text=True)
        try:
            for v1, v2, server in ((0, 100, "greeter-v2"), (100, 0, "greeter"),
                                   (0, 100, "greeter-v2"), (100, 0, "greeter")):
                self.write_route(v1, v2)
                self.wait_for(lambda: self.only(server), "the %d/%d split" % (v1, v2))
        finally:
            out, _ = load.communicate(timeout=120)
        outcomes = dict(line.split(" ", 1)[::-1] for line in out.strip().splitlines())
        self.assertEqual(set(outcomes), {"ok greeter", "ok greeter-v2"}, out)
        self.assertEqual(sum(int(n) for n in outcomes.values()), 3000)

        # An unsupported field: weftctl check names it, the control plane
        # refuses it, and the last good route (100/0) keeps serving.
        bad = ROUTE.replace("  - matches: [{method: {service: weft.test.Echo, method: Bidi}}]",
                            "  - name: bidi\n"
                            "    matches: [{method: {service: weft.test.Echo, method: Bidi}}]")
        check_dir = tempfile.mkdtemp(prefix="weft-check-")
        try:
            shutil.copy(os.path.join(self.config, "mesh.yaml"), check_dir)
            write(os.path.join(check_dir, "route.yaml"), bad % {"v1": 0, "v2": 100})
            check = subprocess.run([WEFTCTL_BIN, "check", check_dir], capture_output=True,
                                   text=True, timeout=30)
        finally:
            shutil.rmtree(check_dir, ignore_errors=True)
        self.assertEqual(check.returncode, 1)
        self.assertIn("GRPCRoute default/greeter-route: spec.rules[0].name: is not supported by "
                      "weft", check.stdout)
        self.write_route(0, 100, text=bad)
        self.wait_for(lambda: "spec.rules[0].name" in self.control.output(), "the refusal")
        self.assertTrue(self.only("greeter"))

    def only(self, server):
        """Whether 20 calls all reach `server`."""
        counts = self.outcomes("--count", "20")
        return sum(n for key, n in counts.items() if key[0] == server) == 20


if __name__ == "__main__":
    unittest.main()
