"""Pods for the interception tests: network namespaces the test creates,
processes spawned in them (optionally as the proxy's UID 1337), cleanup."""

import os
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import PROXY_BIN, wait_for

UID = 1337


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, check=check)


class NetnsPods(unittest.TestCase):
    """Class fixtures: cls.dir (world-readable), cls.proxy_bin (a copy UID 1337
    can run), cls.namespaces, cls.procs. Subclasses call start() from setUpClass."""

    prefix = "weft-netns-"

    @classmethod
    def start(cls, first_namespace):
        probe = subprocess.run(["ip", "netns", "add", first_namespace], capture_output=True,
                               text=True)
        if probe.returncode != 0:
            print("\n  SKIPPED: this machine forbids network namespaces: " + probe.stderr.strip())
            raise unittest.SkipTest("network namespaces not allowed: " + probe.stderr.strip())
        cls.namespaces = [first_namespace]
        cls.procs = []
        cls.dir = tempfile.mkdtemp(prefix=cls.prefix)
        os.chmod(cls.dir, 0o755)
        # The proxies run as UID 1337, which may not reach the build tree
        # (under /root): they run a copy.
        cls.proxy_bin = os.path.join(cls.dir, "weft-proxy")
        shutil.copy(PROXY_BIN, cls.proxy_bin)
        os.chmod(cls.proxy_bin, 0o755)

    @classmethod
    def add_namespace(cls, name):
        sh("ip", "netns", "add", name)
        cls.namespaces.append(name)

    @classmethod
    def address_pod(cls, ns, dev, ip):
        """`dev` (already in `ns`) gets `ip`/24; the Service range (10.96/16)
        routes out of it, as a cluster's would."""
        sh("ip", "-n", ns, "addr", "add", ip + "/24", "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "route", "add", "10.96.0.0/16", "dev", dev)

    @classmethod
    def etc_file(cls, ns, name, text):
        """/etc/NAME as processes in `ns` see it: `ip netns exec` mounts
        /etc/netns/NS/NAME over it (hosts, resolv.conf). Removed at teardown."""
        folder = os.path.join("/etc/netns", ns)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)

    @classmethod
    def readable(cls, path):
        """A copy of `path` in cls.dir that UID 1337 can read."""
        copy = os.path.join(cls.dir, os.path.basename(path))
        if os.path.abspath(path) != copy:
            shutil.copy(path, copy)
        os.chmod(copy, 0o644)
        return copy

    @classmethod
    def spawn(cls, ns, args, uid=None, name="proc", env=None):
        prefix = ["ip", "netns", "exec", ns]
        if uid is not None:
            prefix += ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"]
        log = open(os.path.join(cls.dir, name + ".log"), "w")
        proc = subprocess.Popen(prefix + args, stdout=log, stderr=subprocess.STDOUT,
                                env=None if env is None else {**os.environ, **env})
        cls.procs.append(proc)
        return proc

    @classmethod
    def in_pod(cls, ns, args, uid=None, timeout=20):
        prefix = ["ip", "netns", "exec", ns]
        if uid is not None:
            prefix += ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"]
        return subprocess.run(prefix + args, capture_output=True, text=True, timeout=timeout)

    @classmethod
    def logs(cls):
        out = ""
        for name in sorted(os.listdir(cls.dir)):
            if name.endswith(".log"):
                with open(os.path.join(cls.dir, name)) as f:
                    out += "\n--- %s\n%s" % (name, f.read()[-3000:])
        return out

    @classmethod
    def wait_for(cls, condition, what, timeout=15):
        wait_for(condition, what, timeout, interval=0.1, details=cls.logs)

    @classmethod
    def tearDownClass(cls):
        for proc in getattr(cls, "procs", []):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in getattr(cls, "procs", []):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for ns in getattr(cls, "namespaces", []):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            shutil.rmtree(os.path.join("/etc/netns", ns), ignore_errors=True)
        shutil.rmtree(getattr(cls, "dir", "/nonexistent"), ignore_errors=True)
