"""An OTLP/gRPC collector for the tracing tests (e2e/otlp_collector.js: grpc-js
with the OpenTelemetry project's generated decoder, installed by tools/setup
into .tools/otlp). Spans arrive as dicts: hex ids, kind/status by enum name."""

import json
import os
import shutil
import subprocess
import tempfile

from harness import ROOT, free_port, wait_for

NODE = shutil.which("node") or "/usr/bin/node"
MODULES = os.path.join(ROOT, ".tools/otlp/node_modules")
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "otlp_collector.js")


class OtlpCollector:
    """OTLP/gRPC on `port`, OTLP/HTTP (POST /v1/traces) on `http_port`."""

    def __init__(self, port=None, http_port=None):
        self.port = port or free_port()
        self.http_port = http_port or free_port()
        self.dir = tempfile.mkdtemp(prefix="weft-otlp-")
        self.spans_path = os.path.join(self.dir, "spans.jsonl")
        self.log_path = os.path.join(self.dir, "collector.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([NODE, SCRIPT, str(self.port), self.spans_path,
                                      str(self.http_port)],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "WEFT_OTLP_MODULES": MODULES})
        wait_for(self.listening, "the OTLP collector to listen", timeout=15,
                 details=self.output)

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def listening(self):
        if self.proc.poll() is not None:
            raise AssertionError("otlp_collector exited:\n" + self.output())
        return "http listening" in self.output() and "\nlistening" in "\n" + self.output()

    def spans(self):
        if not os.path.exists(self.spans_path):
            return []
        with open(self.spans_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def wait_for_spans(self, count, timeout=15, where=lambda span: True):
        wait_for(lambda: len([s for s in self.spans() if where(s)]) >= count,
                 "%d spans at the collector" % count, timeout=timeout,
                 details=lambda: "spans: %s\ncollector: %s" % (self.spans(), self.output()))
        return [s for s in self.spans() if where(s)]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
