"""WebSocket across the mesh, under STRICT mTLS: a real client and server
(Debian's python3-websockets) through two sidecars that weft-control
programs. The app's HTTP/1.1 Upgrade crosses the sidecar-to-sidecar HTTP/2
connection as an RFC 8441 extended CONNECT. A long-lived connection
outlives pushes that do not concern it (a route edit, a policy that still
allows it) and is cut by the first policy that denies it."""

import asyncio
import os
import socket
import subprocess
import time

import websockets

from harness import ROOT, metric_sum
from test_mesh_mtls import MeshFixture
from test_xds import write

WS_ECHO = os.path.join(ROOT, "e2e", "ws_echo.py")

ROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo-route}
spec:
  parentRefs: [{group: "", kind: Service, name: echo, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: echo, port: 80}]
    timeouts: {request: 7s}
"""

POLICY = """
apiVersion: weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: {name: echo-callers}
spec:
  targetRef: {kind: Service, name: echo}
  rules:
  - from: [{serviceAccount: %s}]
    to: {paths: ["/chat", "/other"], methods: [GET]}
"""


class WebSocketApp:
    """ws_echo.py in a process of its own; what it printed is its log."""

    def __init__(self, host, port, log):
        self.log = log
        self.proc = subprocess.Popen(["/usr/bin/python3", WS_ECHO, "--host", host, "--port",
                                      str(port)], stdout=open(log, "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((host, port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("ws_echo.py did not listen: " + open(log).read())

    def closes(self):
        with open(self.log) as f:
            return [line.split()[1] for line in f if line.startswith("closed ")]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class MeshWebSocketTest(MeshFixture):
    def start_app(self, host, port):
        return WebSocketApp(host, port, os.path.join(self.dir, "ws-app.log"))

    def connect(self):
        # Host "echo" (the Service) to the client sidecar's outbound port.
        return websockets.connect("ws://echo/chat", host="127.0.0.1", port=self.out_port,
                                  open_timeout=10, ping_interval=None, close_timeout=5)

    async def open_when_ready(self):
        deadline = time.monotonic() + 15
        while True:
            try:
                return await self.connect()
            except (OSError, websockets.InvalidHandshake, asyncio.TimeoutError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    async def round_trip(self, ws, message):
        await ws.send(message)
        return await asyncio.wait_for(ws.recv(), 10)

    def wait_for_push(self, proxy, kind, before):
        self.wait_for(lambda: proxy.xds_version(kind) != before, "the %s push applied" % kind)

    def test_echo_ping_and_close_codes_through_two_sidecars(self):
        async def run():
            ws = await self.open_when_ready()
            self.assertEqual(await self.round_trip(ws, "hello"), "hello")
            payload = os.urandom(200000)  # binary, larger than one HTTP/2 frame
            self.assertEqual(await self.round_trip(ws, payload), payload)
            pong = await ws.ping(b"are-you-there")
            await asyncio.wait_for(pong, 5)
            # The app pings every 0.5 s and drops a client whose pongs do not
            # come back: still open after 1.5 s means they cross both ways.
            await asyncio.sleep(1.5)
            self.assertEqual(await self.round_trip(ws, "still here"), "still here")
            # The app closes with a code of its own: the client gets it.
            await ws.send("close 4001")
            await asyncio.wait_for(ws.wait_closed(), 10)
            self.assertEqual(ws.close_code, 4001)
            # The client closes with its own: the app gets it.
            ws = await self.open_when_ready()
            self.assertEqual(await self.round_trip(ws, "again"), "again")
            await ws.close(4002, "bye")
        asyncio.run(run())
        self.wait_for(lambda: "4002" in self.app.closes(), "the app seeing close code 4002")
        self.assertIn("4001", self.app.closes())
        # Both sidecars handled it at L7, over mTLS, and counted the 101s.
        text = self.echo.admin("/stats/prometheus")[1]
        self.assertGreaterEqual(metric_sum(
            text, "istio_requests_total", reporter="destination", response_code="101",
            source_principal="spiffe://cluster.local/ns/default/sa/client",
            connection_security_policy="mutual_tls"), 2)

    def test_pushes_that_allow_it_keep_it_and_a_denying_policy_cuts_it(self):
        async def run():
            ws = await self.open_when_ready()
            self.assertEqual(await self.round_trip(ws, "first"), "first")
            # A route push the client sidecar applies (RDS).
            before = self.client.xds_version("routes")
            write(os.path.join(self.config, "route.yaml"), ROUTE)
            self.wait_for_push(self.client, "routes", before)
            self.assertEqual(await self.round_trip(ws, "after the route push"), "after the route push")
            # A policy push that still allows this caller (echo's inbound rules change).
            before = self.echo.xds_version("listeners")
            write(os.path.join(self.config, "policy.yaml"), POLICY % "client")
            self.wait_for_push(self.echo, "listeners", before)
            self.assertEqual(await self.round_trip(ws, "after the policy push"), "after the policy push")
            denied = self.echo.metric("weft_rbac_decisions_total", decision="denied")
            # A policy that no longer allows it: the open WebSocket is cut.
            before = self.echo.xds_version("listeners")
            write(os.path.join(self.config, "policy.yaml"), POLICY % "someone-else")
            self.wait_for_push(self.echo, "listeners", before)
            with self.assertRaises(websockets.ConnectionClosed):
                for _ in range(50):  # closed once the push applied, or at the latest message
                    await self.round_trip(ws, "after the deny")
                    await asyncio.sleep(0.1)
            self.assertGreater(self.echo.metric("weft_rbac_decisions_total", decision="denied"),
                               denied)
            # And a new one is refused at the handshake.
            with self.assertRaises(websockets.InvalidStatusCode) as refused:
                await self.connect()
            self.assertEqual(refused.exception.status_code, 403)
        asyncio.run(run())


if __name__ == "__main__":
    import unittest
    unittest.main()
