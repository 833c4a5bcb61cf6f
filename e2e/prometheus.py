"""A real Prometheus server (Debian's `prometheus` package) scraping the e2e
mesh, and `promtool` to lint expositions. Queries go through its HTTP API."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from harness import free_port, wait_for

PROMETHEUS_BIN = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL_BIN = shutil.which("promtool") or "/usr/bin/promtool"

CONFIG = """
global:
  scrape_interval: %(interval)s
  evaluation_interval: %(interval)s
scrape_configs:
%(jobs)s
"""

JOB = """- job_name: %(job)s
  metrics_path: %(path)s
  static_configs:
  - targets: [%(targets)s]
"""


class Prometheus:
    """`jobs`: {job name: (metrics path, ["host:port", ...])}, scraped every second."""

    def __init__(self, jobs, interval="1s"):
        self.dir = tempfile.mkdtemp(prefix="weft-prometheus-")
        self.port = free_port()
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(CONFIG % {"interval": interval, "jobs": "".join(
                JOB % {"job": job, "path": path, "targets": ", ".join(
                    "'%s'" % t for t in targets)} for job, (path, targets) in jobs.items())})
        check = subprocess.run([PROMTOOL_BIN, "check", "config", config], capture_output=True,
                               text=True)
        if check.returncode != 0:
            raise AssertionError("promtool check config: " + check.stdout + check.stderr)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            [PROMETHEUS_BIN, "--config.file", config,
             "--storage.tsdb.path", os.path.join(self.dir, "data"),
             "--web.listen-address", "127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self.ready, "prometheus to start", timeout=30)

    def ready(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.port, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def api(self, path, **params):
        url = "http://127.0.0.1:%d/api/v1/%s?%s" % (self.port, path,
                                                   urllib.parse.urlencode(params))
        with urllib.request.urlopen(url, timeout=10) as r:
            answer = json.load(r)
        if answer.get("status") != "success":
            raise AssertionError("prometheus %s: %s" % (path, answer))
        return answer["data"]

    def query(self, expr):
        """An instant query: [(labels, float value), ...]."""
        data = self.api("query", query=expr, time="%.3f" % time.time())
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def scalar(self, expr):
        result = self.query(expr)
        if len(result) != 1:
            raise AssertionError("%s: %d series, not 1: %s" % (expr, len(result), result))
        return result[0][1]

    def targets_up(self):
        """True when every target's last scrape succeeded."""
        active = self.api("targets")["activeTargets"]
        return bool(active) and all(t["health"] == "up" for t in active)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def promtool_check_metrics(text):
    """promtool's lint of one exposition: (ok, what it said)."""
    out = subprocess.run([PROMTOOL_BIN, "check", "metrics"], input=text, capture_output=True,
                         text=True)
    return out.returncode == 0, out.stdout + out.stderr
