"""HTTPRoute as users write it, through two sidecars under STRICT mTLS: every
filter (request and response header modifiers, URL rewrites, redirects,
mirrors, backendRef filters) observed at the app or the client, query
parameter matches sending `?v=2` to a canary, a mirror at its configured
share whose slowness or absence the primary never sees, route edits under
load, and fields weft does not act on named by `weftctl check` and refused
at load while the last good route keeps serving."""

import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time

from harness import WEFTCTL_BIN, Backend
from service_pods import ServicePodsMesh
from test_xds import LoadLoop, write

ROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo-route}
spec:
  parentRefs: [{kind: Service, name: echo, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /filtered}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: x-set, value: by-route}]
        add: [{name: x-added, value: by-route}]
        remove: [x-gone]
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        add: [{name: x-resp, value: by-route}]
        remove: [x-backend]
    - type: URLRewrite
      urlRewrite:
        hostname: rewritten.internal
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /headers}
    backendRefs:
    - name: echo
      port: 80
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {set: [{name: x-picked, value: echo}]}
  - matches: [{path: {type: Exact, value: /teapot}}]
    filters:
    - type: URLRewrite
      urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /status/218}}
    backendRefs: [{name: echo, port: 80}]
  - matches: [{queryParams: [{name: v, value: "2"}]}]
    backendRefs: [{name: echo-v2, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        scheme: https
        hostname: new.example.com
        statusCode: 301
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}
  - matches: [{path: {type: Exact, value: /moved}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /here}}
  - backendRefs: [{name: echo, port: 80}]
    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: echo-mirror, port: 80}, percent: %(percent)d}
"""

# One field weft does not act on (an ExtensionRef filter) in an otherwise good route.
UNSUPPORTED = ROUTE.replace("""    - type: RequestMirror""", """    - type: ExtensionRef
      extensionRef: {group: example.com, kind: Thing, name: x}
    - type: RequestMirror""")


class HttpRouteFiltersTest(ServicePodsMesh):
    """client-0 -> mTLS -> echo-0 / echo-v2-0 / echo-mirror-0 sidecars -> their apps."""

    PODS = {"echo": ("127.0.22.1", "127.0.23.1"), "echo-v2": ("127.0.22.2", "127.0.23.2"),
            "echo-mirror": ("127.0.22.3", "127.0.23.3")}

    def write_routes(self):
        self.write_route(50)

    def setUp(self):
        super().setUp()
        self.wait_for(lambda: self.request("/filtered")[0] == 200, "the route to serve")

    def write_route(self, percent, text=ROUTE):
        write(os.path.join(self.config, "route.yaml"), text % {"percent": percent})

    def request(self, path, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.out_port, timeout=10)
        conn.request("GET", path, headers={"Host": "echo", **(headers or {})})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body

    def curl(self, path):
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-H", "Host: echo", "-w",
                              "%{http_code} %{redirect_url}",
                              "http://127.0.0.1:%d%s" % (self.out_port, path)],
                             capture_output=True, text=True, timeout=20)
        return out.stdout

    def mirrored(self):
        return len(self.apps["echo-mirror"].server.seen)

    def test_header_and_url_filters_reach_the_app_and_the_client(self):
        status, headers, body = self.request("/filtered", {"x-gone": "1", "x-set": "by-client"})
        self.assertEqual(status, 200)
        seen = json.loads(body)  # the app's /headers: the prefix rewrite took /filtered there
        self.assertEqual(seen["x-set"], "by-route")  # set replaces the client's
        self.assertEqual(seen["x-added"], "by-route")
        self.assertNotIn("x-gone", seen)
        self.assertEqual(seen["host"], "rewritten.internal")
        self.assertEqual(seen["x-picked"], "echo")  # the backendRef's own filter
        self.assertEqual(headers.get("x-resp"), "by-route")
        self.assertNotIn("x-backend", headers)  # removed from the app's response
        # The app got the rewritten target, under the client's identity over mTLS.
        method, target, host = self.apps["echo"].server.seen[-1]
        self.assertEqual((method, target, host), ("GET", "/headers", "rewritten.internal"))
        self.assertIn("By=spiffe://cluster.local/ns/default/sa/echo", seen["x-forwarded-client-cert"])
        # A full-path rewrite: /teapot became /status/218 at the app.
        self.assertEqual(self.request("/teapot")[0], 218)
        self.assertEqual(self.apps["echo"].server.seen[-1][1], "/status/218")

    def test_query_parameters_send_only_matching_requests_to_the_canary(self):
        answers = {path: self.request(path)[2] for path in
                   ("/?v=2", "/a/b?x=1&v=2", "/?v=3", "/", "/?v=22", "/?vv=2")}
        self.assertEqual(answers, {"/?v=2": b"echo-v2", "/a/b?x=1&v=2": b"echo-v2",
                                   "/?v=3": b"echo", "/": b"echo", "/?v=22": b"echo",
                                   "/?vv=2": b"echo"})

    def test_redirects_as_curl_sees_them(self):
        # scheme + hostname + prefix replacement, 301; the query is kept and
        # https's own port left out.
        self.assertEqual(self.curl("/old/page?x=1"), "301 https://new.example.com/new/page?x=1")
        self.assertEqual(self.curl("/old"), "301 https://new.example.com/new")
        # Only the path: 302 (the default) to the same host and scheme.
        self.assertEqual(self.curl("/moved"), "302 http://echo/here")
        self.assertEqual(self.apps["echo"].server.seen.count(("GET", "/moved", "echo")), 0)

    def test_mirror_share_and_a_slow_or_absent_mirror_never_reach_the_primary(self):
        before = self.mirrored()
        sent = 400
        for _ in range(sent):
            self.assertEqual(self.request("/mirror-me")[2], b"echo")
        self.wait_for(lambda: self.mirrored() - before >= 150, "the mirror's share to arrive")
        time.sleep(0.5)
        share = self.mirrored() - before
        print("\n  mirror at 50%%: %d of %d requests copied" % (share, sent))
        # Binomial(400, 0.5): sd 10, so 150..250 is five of them.
        self.assertGreaterEqual(share, 150)
        self.assertLessEqual(share, 250)
        method, target, host = self.apps["echo-mirror"].server.seen[-1]
        self.assertEqual((method, target, host), ("GET", "/mirror-me", "echo-shadow"))

        # A mirror slower than the primary: every primary answer is the app's
        # own speed, not the mirror's 2 s.
        self.write_route(100)
        self.wait_for(lambda: self.mirror_settled(100), "the 100% mirror")
        self.apps["echo-mirror"].server.delay_ms = 2000
        slowest = 0
        for _ in range(10):
            start = time.monotonic()
            self.assertEqual(self.request("/slow-mirror")[0], 200)
            slowest = max(slowest, time.monotonic() - start)
        print("  slowest primary with a 2 s mirror: %.0f ms" % (slowest * 1000))
        self.assertLess(slowest, 1.0)
        self.apps["echo-mirror"].server.delay_ms = 0

        # The mirror's app gone (its sidecar answers 503), then its sidecar too
        # (connections refused): the primary answers every request.
        self.apps["echo-mirror"].stop()
        for _ in range(20):
            self.assertEqual(self.request("/mirror-down")[0], 200)
        self.sidecars["echo-mirror"].stop()
        for _ in range(20):
            self.assertEqual(self.request("/mirror-gone")[0], 200)
        self.apps["echo-mirror"] = Backend("echo-mirror", host=self.PODS["echo-mirror"][1],
                                           port=self.port)

    def mirror_settled(self, percent):
        """Whether the client sidecar mirrors `percent` of requests now."""
        dump = self.client.admin("/config_dump")[1]
        return ('"numerator": %d' % (percent * 10000)) in dump or (
            '"numerator":%d' % (percent * 10000)) in dump

    def test_route_edits_under_load_lose_no_request(self):
        loop = LoadLoop(self.out_port, limit=20000, seconds=60)
        try:
            for percent in (100, 0, 25, 50):
                before = self.client.xds_version("routes")
                self.write_route(percent)
                self.wait_for(lambda: self.client.xds_version("routes") != before, "the push")
                loop.since(time.monotonic(), 100)
        finally:
            loop.stop()
        self.assertEqual(loop.errors, [])
        self.assertGreater(len(loop.results), 400)

    def test_unsupported_fields_are_named_and_the_last_good_route_keeps_serving(self):
        bad = tempfile.mkdtemp(prefix="weft-check-")
        try:
            shutil.copy(os.path.join(self.config, "mesh.yaml"), bad)
            write(os.path.join(bad, "route.yaml"), UNSUPPORTED % {"percent": 50})
            out = subprocess.run([WEFTCTL_BIN, "check", bad], capture_output=True, text=True)
            self.assertEqual(out.returncode, 1, out.stdout)
            self.assertIn("route.yaml (document 1): HTTPRoute default/echo-route: "
                          "spec.rules[5].filters[0].type: 'ExtensionRef' is not supported by weft",
                          out.stdout)
        finally:
            shutil.rmtree(bad, ignore_errors=True)
        # Loaded by weft-control: the route is refused and reported, and the
        # proxies keep its last valid version, filters and all.
        before = self.client.xds_version("routes")
        self.write_route(50, UNSUPPORTED)
        self.wait_for(lambda: "ExtensionRef" in self.control.get("/debug/config_errors")[1],
                      "weft-control to refuse the route")
        errors = self.control.get("/debug/config_errors")[1]
        self.assertIn("spec.rules[5].filters[0].type", errors)
        self.assertIn("keeping its last valid version", errors)
        time.sleep(0.5)
        self.assertEqual(self.client.xds_version("routes"), before)
        self.assertEqual(self.request("/?v=2")[2], b"echo-v2")
        self.assertEqual(self.curl("/moved"), "302 http://echo/here")

    def status(self):
        """`weftctl status` of the route: (exit code, condition -> "STATUS REASON MESSAGE", text).
        Every sidecar here may call echo: the route belongs on four."""
        out = subprocess.run([WEFTCTL_BIN, "status", "httproute/echo-route", "--control",
                              "127.0.0.1:%d" % self.control.admin_port],
                             capture_output=True, text=True, timeout=20)
        rows = {}
        for line in out.stdout.splitlines()[2:]:  # after the object and parent lines
            fields = line.split(None, 3)
            rows[fields[0]] = " ".join(fields[1:])
        return out.returncode, rows, out.stdout

    def wait_status(self, condition, prefix):
        self.wait_for(lambda: self.status()[1].get(condition, "").startswith(prefix),
                      "%s to read %r" % (condition, prefix))

    def test_status_follows_the_route_through_a_refusal_and_a_fix(self):
        self.wait_status("weft.dev/Programmed", "True Programmed 4 of 4 proxies have ACKed it")
        code, rows, text = self.status()
        self.assertEqual(code, 0, text)
        self.assertIn("HTTPRoute default/echo-route (generation 0)", text)
        self.assertIn("parent Service echo:80 (weft.dev/mesh)", text)
        self.assertTrue(rows["Accepted"].startswith("True Accepted"), text)
        self.assertTrue(rows["ResolvedRefs"].startswith("True ResolvedRefs"), text)
        # The MeshConfig belongs on every sidecar too.
        out = subprocess.run([WEFTCTL_BIN, "status", "meshconfig/mesh", "-n", "weft-system",
                              "--control", "127.0.0.1:%d" % self.control.admin_port],
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("Programmed           True     Programmed             4 of 4 proxies have "
                      "ACKed it", out.stdout)

        # A field weft does not act on: refused, said why, and the proxies keep the last one.
        self.write_route(50, UNSUPPORTED)
        self.wait_status("Accepted", "False UnsupportedValue")
        code, rows, text = self.status()
        self.assertEqual(code, 3, text)
        self.assertIn("spec.rules[5].filters[0].type: 'ExtensionRef' is not supported by weft",
                      rows["Accepted"])
        self.assertIn("False Invalid this generation is not applied", rows["weft.dev/Programmed"])
        self.assertIn("4 of 4 proxies have ACKed its last valid version",
                      rows["weft.dev/Programmed"])

        # A backend that does not exist.
        self.write_route(50, ROUTE.replace("name: echo-mirror", "name: echo-gone"))
        self.wait_status("ResolvedRefs", "False BackendNotFound")
        self.assertIn("backend Service 'echo-gone' does not exist", self.status()[1]["ResolvedRefs"])

        # Fixed: accepted, resolved, and programmed again everywhere.
        self.write_route(25)
        self.wait_status("weft.dev/Programmed", "True Programmed 4 of 4")
        code, rows, text = self.status()
        self.assertEqual(code, 0, text)
        self.assertTrue(rows["Accepted"].startswith("True Accepted"), text)
        self.assertTrue(rows["ResolvedRefs"].startswith("True ResolvedRefs"), text)
