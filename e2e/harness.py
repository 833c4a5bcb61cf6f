"""Shared helpers for the e2e tests: real weft-proxy processes, real backends,
real sockets on loopback. Nothing here is mocked."""

import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

import backend

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROXY_BIN = os.environ.get("WEFT_PROXY_BIN", os.path.join(ROOT, "bazel-bin/proxy/weft-proxy"))
CERTGEN_BIN = os.path.join(ROOT, "bazel-bin/tools/certgen/certgen")
CONTROL_BIN = os.environ.get("WEFT_CONTROL_BIN",
                             os.path.join(ROOT, "bazel-bin/controlplane/weft-control"))
INJECTOR_BIN = os.environ.get("WEFT_INJECTOR_BIN",
                              os.path.join(ROOT, "bazel-bin/injector/weft-injector"))
WEFTCTL_BIN = os.path.join(ROOT, "bazel-bin/tools/weftctl/weftctl")
# Installed by tools/setup from npm (Debian has no Helm, and its kubectl is too old).
KUBECTL = os.path.join(ROOT, ".tools/kubectl")
HELM = os.path.join(ROOT, ".tools/helm")
H2_OPTIONS = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
    "explicit_http_config": {"http2_protocol_options": {}}}}


def xds_bootstrap(node_id, admin_port, xds_port, **metadata):
    """A weft-proxy bootstrap that takes everything from weft-control (ADS)."""
    return {
        "node": {"id": node_id, "cluster": node_id.split(".")[0],
                 "metadata": {k: str(v) for k, v in metadata.items()}},
        "admin": {"address": socket_address(admin_port)},
        "dynamic_resources": {
            "ads_config": {"api_type": "GRPC", "transport_api_version": "V3",
                           "grpc_services": [{"envoy_grpc": {"cluster_name": "xds_cluster"}}]},
            "cds_config": {"ads": {}, "resource_api_version": "V3"},
            "lds_config": {"ads": {}, "resource_api_version": "V3"},
        },
        "static_resources": {"clusters": [static_cluster(
            "xds_cluster", [xds_port], typed_extension_protocol_options=H2_OPTIONS)]},
    }


class ControlPlane:
    """A weft-control process reading `config_dir`."""

    def __init__(self, config_dir, xds_port=None, admin_port=None, debounce_ms=50, extra_args=()):
        self.config_dir = config_dir
        self.extra_args = list(extra_args)
        self.xds_port = xds_port or free_port()
        self.admin_port = admin_port or free_port()
        self.debounce_ms = debounce_ms
        self.log_path = os.path.join(config_dir, "..", "control-%d.log" % self.admin_port)
        self.start()

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [CONTROL_BIN, "--config-dir", self.config_dir, "--xds-address",
             "127.0.0.1:%d" % self.xds_port, "--admin-port", str(self.admin_port),
             "--debounce-ms", str(self.debounce_ms), *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if self.get("/ready")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("weft-control did not start:\n" + self.output())

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.admin_port, path),
                                    timeout=5) as resp:
            return resp.status, resp.read().decode()

    def syncz(self):
        return json.loads(self.get("/debug/syncz")[1])

    def metric(self, name, **labels):
        return metric_sum(self.get("/metrics")[1], name, **labels)

    def output(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self.log.close()
        return self.proc.returncode

HCM_TYPE = ("type.googleapis.com/envoy.extensions.filters.network."
            "http_connection_manager.v3.HttpConnectionManager")
ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
TCP_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"


def metric_sum(text, name, **labels):
    """Sum of the Prometheus samples of `name` in `text` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, value = line.rsplit(" ", 1)
        if series.split("{")[0] == name and all(
                '%s="%s"' % (k, v) in series for k, v in labels.items()):
            total += float(value)
    return total


def wait_for(predicate, what, timeout=15, interval=0.05, details=None):
    """Polls `predicate` until it is true; on timeout fails naming `what`
    (with `details()` appended, e.g. process logs). Tests wait for outcomes
    this way rather than sleeping a fixed time."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(interval)
    message = "timed out waiting for " + what
    if details is not None:
        message += "\n" + details()
    raise AssertionError(message)


_sanitized = None


def proxy_is_sanitized():
    """True when PROXY_BIN is an ASan build (its memory figures are ASan's:
    quarantine and shadow pages, not the proxy's)."""
    global _sanitized
    if _sanitized is None:
        with open(PROXY_BIN, "rb") as f:
            _sanitized = b"__asan_init" in f.read()  # gcc links libasan: the symbol is imported
    return _sanitized


def proc_status_kb(pid, field):
    """A kB figure of /proc/PID/status: VmRSS (now), VmHWM (peak)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def fixture(name, **values):
    """e2e/fixtures/NAME, its %(key)d placeholders filled from `values`."""
    with open(os.path.join(ROOT, "e2e", "fixtures", name)) as f:
        return f.read() % values


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def socket_address(port, host="127.0.0.1"):
    return {"socket_address": {"address": host, "port_value": port}}


def http_listener(name, port, virtual_hosts, **hcm_extra):
    hcm = {
        "@type": HCM_TYPE,
        "stat_prefix": name,
        "route_config": {"name": name + "_routes", "virtual_hosts": virtual_hosts},
        "http_filters": [{"name": "envoy.filters.http.router",
                          "typed_config": {"@type": ROUTER_TYPE}}],
    }
    hcm.update(hcm_extra)
    return {
        "name": name,
        "address": socket_address(port),
        "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                        "typed_config": hcm}]}],
    }


def tcp_listener(name, port, cluster):
    return {
        "name": name,
        "address": socket_address(port),
        "filter_chains": [{"filters": [{"name": "envoy.filters.network.tcp_proxy",
                                        "typed_config": {"@type": TCP_TYPE, "stat_prefix": name,
                                                         "cluster": cluster}}]}],
    }


def static_cluster(name, ports, connect_timeout="1s", **extra):
    cluster = {
        "name": name,
        "type": "STATIC",
        "connect_timeout": connect_timeout,
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": socket_address(p)}}
                                            for p in ports]}],
        },
    }
    cluster.update(extra)
    return cluster


def route_to(cluster, prefix="/", **action):
    action = dict(action)
    action["cluster"] = cluster
    return {"match": {"prefix": prefix}, "route": action}


def bootstrap(listeners, clusters, admin_port):
    return {
        "node": {"id": "e2e-proxy", "cluster": "e2e"},
        "admin": {"address": socket_address(admin_port)},
        "static_resources": {"listeners": listeners, "clusters": clusters},
    }


class Backend:
    """An HTTP backend thread (see backend.py) on a free port (or `port`)."""

    def __init__(self, name, host="127.0.0.1", port=None, delay_ms=0, close_after_response=False,
                 fail_status=0):
        self.port = port or free_port()
        self.host = host
        self.server = backend.serve(self.port, name, host, delay_ms, close_after_response,
                                    fail_status)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def requests(self):
        return self.server.requests

    @property
    def peak_connections(self):
        return self.server.peak_connections

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class BannerBackend:
    def __init__(self, host="127.0.0.1", port=None):
        self.port = port or free_port()
        self.server = backend.serve_banner(self.port, host)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Proxy:
    """A weft-proxy process started from a bootstrap dict (written as JSON,
    or YAML text when given a str)."""

    def config_dump(self):
        return json.loads(self.admin("/config_dump")[1])

    def xds_version(self, kind):
        """Version in service of one dynamic type: clusters, endpoints, listeners, routes."""
        return self.config_dump()["dynamic"][kind]["version"]

    def __init__(self, config, concurrency=2, extra_args=(), env=None, admin_port=None):
        """config None: `weft-proxy sidecar`, configured by `env` (WEFT_* variables)."""
        self.dir = tempfile.mkdtemp(prefix="weft-e2e-")
        command = [PROXY_BIN, "-c", None, "--concurrency", str(concurrency), *extra_args]
        if config is None:
            command = [PROXY_BIN, "sidecar", *extra_args]
            self.admin_port = admin_port
        elif isinstance(config, str):
            self.path = os.path.join(self.dir, "bootstrap.yaml")
            with open(self.path, "w") as f:
                f.write(config)
        else:
            self.path = os.path.join(self.dir, "bootstrap.json")
            with open(self.path, "w") as f:
                json.dump(config, f)
            self.admin_port = config["admin"]["address"]["socket_address"]["port_value"]
        if config is not None:
            command[2] = self.path
        self.log_path = os.path.join(self.dir, "proxy.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=None if env is None else {**os.environ, **env})

    def wait_ready(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("weft-proxy exited early:\n" + self.output())
            try:
                if self.admin("/ready")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("weft-proxy not ready:\n" + self.output())

    def admin(self, path, method="GET"):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.admin_port, path),
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metric(self, name, **labels):
        return metric_sum(self.admin("/stats/prometheus")[1], name, **labels)

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        report = self.output()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in report:
                raise AssertionError("sanitizer report from weft-proxy:\n" + report[-4000:])
        return self.proc.returncode


def run_proxy_expect_failure(config_text, suffix=".yaml", timeout=10):
    """Starts weft-proxy on a bootstrap expected to be rejected; returns
    (exit code, output)."""
    d = tempfile.mkdtemp(prefix="weft-e2e-bad-")
    path = os.path.join(d, "bootstrap" + suffix)
    with open(path, "w") as f:
        f.write(config_text)
    proc = subprocess.run([PROXY_BIN, "-c", path], capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr, path


UPSTREAM_TLS_TYPE = \
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
DOWNSTREAM_TLS_TYPE = \
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"


class Pki:
    """Certificates made by tools/certgen (the CA's own signing code) in `directory`."""

    def __init__(self, directory, name="root"):
        self.dir = directory
        self.ca_cert = os.path.join(directory, name + ".pem")
        self.ca_key = os.path.join(directory, name + ".key")
        subprocess.run([CERTGEN_BIN, "root", "--cert", self.ca_cert, "--key", self.ca_key,
                        "--name", name], check=True)

    def issue(self, name, uri=None, lifetime_s=3600, not_before_s=-300, ips=("127.0.0.1",),
              dns=()):
        cert, key = (os.path.join(self.dir, name + ext) for ext in (".pem", ".key"))
        args = [CERTGEN_BIN, "issue", "--ca-cert", self.ca_cert, "--ca-key", self.ca_key,
                "--cert", cert, "--key", key, "--lifetime-s", str(lifetime_s),
                "--not-before-s", str(not_before_s)]
        if uri:
            args += ["--uri", uri]
        for ip in ips:
            args += ["--ip", ip]
        for dns_name in dns:
            args += ["--dns", dns_name]
        subprocess.run(args, check=True)
        return cert, key


def tls_common(cert=None, key=None, ca=None, peer_uris=(), alpn=()):
    common = {}
    if cert:
        common["tls_certificates"] = [{"certificate_chain": {"filename": cert},
                                       "private_key": {"filename": key}}]
    if ca:
        common["validation_context"] = {
            "trusted_ca": {"filename": ca},
            "match_typed_subject_alt_names": [
                {"san_type": "URI", "matcher": {"exact": u}} for u in peer_uris]}
    if alpn:
        common["alpn_protocols"] = list(alpn)
    return common


def upstream_tls(**common):
    return {"name": "envoy.transport_sockets.tls",
            "typed_config": {"@type": UPSTREAM_TLS_TYPE, "common_tls_context": tls_common(**common)}}


def downstream_tls(require_client_certificate=True, **common):
    return {"name": "envoy.transport_sockets.tls",
            "typed_config": {"@type": DOWNSTREAM_TLS_TYPE,
                             "require_client_certificate": require_client_certificate,
                             "common_tls_context": tls_common(**common)}}
