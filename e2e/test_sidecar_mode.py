"""`weft-proxy sidecar`, the way weft-injector runs the proxy in a pod: no
bootstrap file, only the WEFT_* variables the injected container carries.
The real weft-control (xDS and CA) programs it and signs its certificate;
it calls a meshed service over mTLS with the identity the variables name.
Also its status port (what the kubelet probes), `weft-proxy wait` (the
postStart hook of the fallback shape) and WEFT_EXIT_WITH_APP in a PID
namespace of the test's own, as a Job pod with a shared process namespace."""

import http.client
import os
import socket
import subprocess
import time
import unittest

from harness import PROXY_BIN, Proxy, free_port
from test_mesh_mtls import MeshFixture


class SidecarModeTest(MeshFixture):
    def sidecar_env(self, pod, service_account, token, **extra):
        token_file = os.path.join(self.dir, pod + ".token")
        with open(token_file, "w") as f:
            f.write(token + "\n")
        self.web_admin, self.web_status, self.web_out = free_port(), free_port(), free_port()
        env = {
            "WEFT_POD_NAME": pod, "WEFT_POD_NAMESPACE": "default", "WEFT_POD_IP": "127.0.24.1",
            "WEFT_SERVICE_ACCOUNT": service_account,
            # Host names, as in a cluster: the proxy resolves them once at start.
            "WEFT_XDS_ADDRESS": "localhost:%d" % self.control.xds_port,
            "WEFT_CA_ADDRESS": "localhost:%d" % self.ca_port,
            "WEFT_CA_ROOT_CERT": os.path.join(self.data, "ca.pem"),
            "WEFT_CA_TOKEN_FILE": token_file, "WEFT_TRUST_DOMAIN": "cluster.local",
            "WEFT_CONCURRENCY": "2", "WEFT_OUTBOUND_PORT": str(self.web_out),
            "WEFT_ADMIN_PORT": str(self.web_admin), "WEFT_STATUS_PORT": str(self.web_status),
            # No iptables here: the app calls the outbound port (e2e/test_pod_mesh.py
            # runs the default, interception, in network namespaces).
            "WEFT_INTERCEPTION": "none"}
        env.update(extra)
        return env

    def status(self, path, method="GET", host="127.0.0.1"):
        conn = http.client.HTTPConnection(host, self.web_status, timeout=5)
        conn.request(method, path)
        try:
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        finally:
            conn.close()

    def test_injected_variables_make_a_meshed_sidecar(self):
        env = self.sidecar_env("web-0", "client", "tok-client")
        # The postStart hook starts first and blocks until the proxy is ready.
        waiter = subprocess.Popen([PROXY_BIN, "wait", "--port", str(self.web_status),
                                   "--timeout-s", "30"], stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        self.assertIsNone(waiter.poll())
        web = Proxy(None, env=env, admin_port=self.web_admin)
        self.proxies.append(web)
        _, err = waiter.communicate(timeout=30)
        self.assertEqual(waiter.returncode, 0, err)
        self.assertIn("ready after", err)
        # Once ready it calls the meshed service, over mTLS, as the variables say.
        conn = http.client.HTTPConnection("127.0.0.1", self.web_out, timeout=10)
        conn.request("GET", "/headers", headers={"Host": "echo"})
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        self.assertEqual(resp.status, 200, body)
        self.assertIn("URI=spiffe://cluster.local/ns/default/sa/client", body)
        nodes = [p["node_id"] for p in self.control.syncz()]
        self.assertIn("web-0.default", nodes)
        # The status port answers on every address the kubelet may use, read-only.
        self.assertEqual(self.status("/ready"), (200, "LIVE\n"))
        self.assertEqual(self.status("/ready", host="127.0.0.9")[0], 200)
        metrics = self.status("/stats/prometheus")[1]
        self.assertIn("weft_tls_certificate_expiry_timestamp_seconds", metrics)
        self.assertEqual(self.status("/config_dump")[0], 404)
        self.assertEqual(self.status("/quitquitquit", method="POST")[0], 404)
        self.assertEqual(self.status("/ready", method="POST")[0], 405)
        self.assertIsNone(web.proc.poll())
        # The admin endpoint itself listens on 127.0.0.1 only.
        self.assertEqual(web.admin("/ready")[0], 200)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.9", self.web_admin), timeout=2).close()

    def test_wait_gives_up_with_a_message(self):
        started = time.monotonic()
        done = subprocess.run([PROXY_BIN, "wait", "--port", str(free_port()), "--timeout-s", "1"],
                              capture_output=True, text=True, timeout=20)
        self.assertEqual(done.returncode, 1)
        self.assertIn("not ready after 1 s", done.stderr)
        self.assertGreaterEqual(time.monotonic() - started, 1.0)

    def test_bad_variables_stop_the_start_with_their_name(self):
        cases = [({"WEFT_POD_NAMESPACE": ""}, "WEFT_POD_NAMESPACE is not set"),
                 ({"WEFT_STATUS_PORT": "status"}, "WEFT_STATUS_PORT='status' is not a port"),
                 ({"WEFT_XDS_ADDRESS": "localhost"}, "WEFT_XDS_ADDRESS='localhost' is not "
                                                     "HOST:PORT")]
        for change, message in cases:
            env = {**os.environ, **self.sidecar_env("bad-0", "client", "tok-client"), **change}
            done = subprocess.run([PROXY_BIN, "sidecar"], env=env, capture_output=True,
                                  text=True, timeout=20)
            self.assertEqual(done.returncode, 1, change)
            self.assertIn(message, done.stderr)

    def test_exit_with_app_in_a_shared_pid_namespace(self):
        probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"],
                               capture_output=True, text=True)
        if probe.returncode != 0:
            self.skipTest("this machine forbids PID namespaces: " + probe.stderr.strip())
        env = {**os.environ, **self.sidecar_env("job-0", "client", "tok-client",
                                                WEFT_EXIT_WITH_APP="true")}
        log_path = os.path.join(self.dir, "job-proxy.log")
        # sh is PID 1 (the pause container); the proxy and the "app" (sleep 3)
        # share its PID namespace, as containers of a pod with shareProcessNamespace.
        script = '"$PROXY" sidecar >"$LOG" 2>&1 & PROXY_PID=$!; sleep 3; wait $PROXY_PID'
        job = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script],
                               env={**env, "PROXY": PROXY_BIN, "LOG": log_path})
        deadline = time.time() + 10
        served = False
        while time.time() < deadline and not served:
            try:
                served = self.status("/ready")[0] == 200
            except OSError:
                time.sleep(0.1)
        self.assertTrue(served, "the proxy did not become ready while the app ran")
        self.assertIsNone(job.poll())  # the app still runs, so does the proxy
        job.wait(30)
        with open(log_path) as f:
            log = f.read()
        self.assertEqual(job.returncode, 0, log)
        self.assertIn("the application's processes have exited", log)
        self.assertIn("weft-proxy exiting", log)


if __name__ == "__main__":
    unittest.main()
