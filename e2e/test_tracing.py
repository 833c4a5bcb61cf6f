"""Distributed tracing through a sidecar pair: client -> A (outbound) -> B
(inbound) -> app, each proxy exporting its span over OTLP/gRPC to a
collector that decodes with the OpenTelemetry project's own code
(e2e/otlp.py). One request is one trace of two spans, the client sidecar's
CLIENT span the parent of the server sidecar's SERVER span, whose id the app
receives as its parent; the caller's context and sampling decision are
honoured (W3C and B3); random_sampling decides the rest; a collector that is
down costs spans (counted), never requests."""

import http.client
import json
import unittest

from harness import (Backend, Proxy, bootstrap, free_port, http_listener, route_to,
                     run_proxy_expect_failure, static_cluster, wait_for)
from otlp import OtlpCollector

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
OTEL_TYPE = "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig"


def tracing(service_name, sampling=100.0, **extra):
    config = {
        "random_sampling": {"value": sampling},
        "provider": {"name": "envoy.tracers.opentelemetry", "typed_config": {
            "@type": OTEL_TYPE, "service_name": service_name,
            "grpc_service": {"envoy_grpc": {"cluster_name": "otel"}, "timeout": "2s"}}},
    }
    config.update(extra)
    return config


def hop(name, port, direction, upstream_port, collector_port, node_id, **tracing_args):
    admin = free_port()
    listener = http_listener(name, port, [{"name": "all", "domains": ["*"],
                                           "routes": [route_to("next")]}],
                             tracing=tracing(name + ".default", **tracing_args))
    listener["traffic_direction"] = direction
    config = bootstrap([listener], [static_cluster("next", [upstream_port]),
                                    static_cluster("otel", [collector_port])], admin)
    config["node"]["id"] = node_id
    return Proxy(config).wait_ready()


def get(port, path="/headers", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": "reviews", **(headers or {})})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


class TracingTest(unittest.TestCase):
    def setUp(self):
        self.collector = OtlpCollector()
        self.app = Backend("app")
        self.b_port, self.a_port = free_port(), free_port()
        self.b = hop("inbound", self.b_port, "INBOUND", self.app.port, self.collector.port,
                     "reviews-v1-0.default")
        self.a = hop("outbound", self.a_port, "OUTBOUND", self.b_port, self.collector.port,
                     "productpage-v1-0.default")

    def tearDown(self):
        for proxy in (self.a, self.b):
            proxy.stop()
        self.app.stop()
        self.collector.stop()

    def trace(self, trace_id, count=2):
        return self.collector.wait_for_spans(count, where=lambda s: s["trace_id"] == trace_id)

    def test_one_request_is_one_trace_of_a_client_and_a_server_span(self):
        status, body = get(self.a_port)
        self.assertEqual(status, 200)
        seen = json.loads(body)
        version, trace_id, parent, flags = seen["traceparent"].split("-")
        self.assertEqual((version, flags), ("00", "01"))
        spans = self.trace(trace_id)
        self.assertEqual(len(spans), 2, spans)
        client = next(s for s in spans if s["kind"] == "SPAN_KIND_CLIENT")
        server = next(s for s in spans if s["kind"] == "SPAN_KIND_SERVER")
        self.assertEqual(client["parent_span_id"], "")  # the app sent no context: a root
        self.assertEqual(server["parent_span_id"], client["span_id"])
        self.assertEqual(parent, server["span_id"])      # the app's parent is B's span
        self.assertEqual(client["resource"]["service.name"], "outbound.default")
        self.assertEqual(server["resource"]["service.name"], "inbound.default")
        self.assertEqual(client["attributes"]["node_id"], "productpage-v1-0.default")
        self.assertEqual(server["attributes"]["node_id"], "reviews-v1-0.default")
        for span in spans:
            self.assertEqual(span["attributes"]["http.status_code"], "200")
            self.assertEqual(span["attributes"]["http.method"], "GET")
            self.assertEqual(span["attributes"]["http.url"], "http://reviews/headers")
            self.assertEqual(span["attributes"]["upstream_cluster"], "next")
            # OpenTelemetry's HTTP semantic conventions, typed as they say.
            self.assertEqual(span["attributes"]["http.response.status_code"], 200)
            self.assertEqual(span["attributes"]["http.request.method"], "GET")
            self.assertEqual(span["attributes"]["url.full"], "http://reviews/headers")
            self.assertEqual(span["attributes"]["url.path"], "/headers")
            self.assertEqual(span["attributes"]["server.address"], "reviews")
            self.assertEqual(span["attributes"]["network.protocol.version"], "1.1")
            self.assertEqual(span["status"], "STATUS_CODE_UNSET")
            self.assertEqual(span["scope"], "weft-proxy")
            self.assertEqual(span["name"], "reviews/*")
        self.assertEqual(client["attributes"]["guid:x-request-id"],
                         server["attributes"]["guid:x-request-id"])
        self.assertEqual(server["attributes"]["guid:x-request-id"], seen["x-request-id"])
        # The client's span encloses the server's.
        self.assertLessEqual(int(client["start_ns"]), int(server["start_ns"]))
        self.assertGreaterEqual(int(client["end_ns"]), int(server["end_ns"]))

    def test_the_callers_context_and_decision_are_honoured(self):
        status, body = get(self.a_port, headers={"traceparent": "00-%s-%s-01" % (TRACE, PARENT),
                                                 "tracestate": "vendor=x"})
        self.assertEqual(status, 200)
        spans = self.trace(TRACE)
        client = next(s for s in spans if s["kind"] == "SPAN_KIND_CLIENT")
        self.assertEqual(client["parent_span_id"], PARENT)
        self.assertEqual({s["trace_state"] for s in spans}, {"vendor=x"})
        self.assertEqual(json.loads(body)["tracestate"], "vendor=x")
        # B3, as Zipkin-instrumented apps send it: continued, and passed on in B3.
        b3_trace = "463ac35c9f6413ad48485a3953bb6124"
        status, body = get(self.a_port, headers={"x-b3-traceid": b3_trace,
                                                 "x-b3-spanid": "a2fb4a1d1a96d312",
                                                 "x-b3-sampled": "1"})
        self.assertEqual(status, 200)
        spans = self.trace(b3_trace)
        server = next(s for s in spans if s["kind"] == "SPAN_KIND_SERVER")
        seen = json.loads(body)
        self.assertEqual(seen["x-b3-traceid"], b3_trace)
        self.assertEqual(seen["x-b3-spanid"], server["span_id"])
        # A caller that decided not to sample: no span anywhere, and the
        # decision travels on to the app.
        unsampled = "0af7651916cd43dd8448eb211c80319c"
        status, body = get(self.a_port,
                           headers={"traceparent": "00-%s-%s-00" % (unsampled, PARENT)})
        self.assertEqual(status, 200)
        self.assertTrue(json.loads(body)["traceparent"].startswith("00-%s-" % unsampled))
        self.assertTrue(json.loads(body)["traceparent"].endswith("-00"))
        marker_status, marker = get(self.a_port)  # sampled: once its spans are in, so are all before
        self.trace(json.loads(marker)["traceparent"].split("-")[1])
        self.assertEqual([s for s in self.collector.spans() if s["trace_id"] == unsampled], [])

    def test_errors_are_error_spans(self):
        status, body = get(self.a_port, "/status/503")
        self.assertEqual(status, 503)
        spans = self.collector.wait_for_spans(
            2, where=lambda s: s["attributes"].get("http.status_code") == "503")
        self.assertEqual({s["status"] for s in spans}, {"STATUS_CODE_ERROR"})
        self.assertEqual({s["attributes"]["error"] for s in spans}, {"true"})

    def test_otlp_http_export_is_read_by_the_collector_too(self):
        app = Backend("app2")
        port = free_port()
        listener = http_listener("edge", port, [{"name": "all", "domains": ["*"],
                                                 "routes": [route_to("next")]}],
                                 tracing={"provider": {
                                     "name": "envoy.tracers.opentelemetry", "typed_config": {
                                         "@type": OTEL_TYPE, "service_name": "edge.default",
                                         "http_service": {"http_uri": {
                                             "uri": "http://otel.example:4318/v1/traces",
                                             "cluster": "otel-http", "timeout": "2s"}}}}})
        config = bootstrap([listener], [static_cluster("next", [app.port]),
                                        static_cluster("otel-http", [self.collector.http_port])],
                           free_port())
        proxy = Proxy(config).wait_ready()
        try:
            status, body = get(port)
            self.assertEqual(status, 200)
            spans = self.trace(json.loads(body)["traceparent"].split("-")[1], count=1)
            self.assertEqual(spans[0]["resource"]["service.name"], "edge.default")
            self.assertEqual(spans[0]["kind"], "SPAN_KIND_SERVER")
        finally:
            proxy.stop()
            app.stop()

    def test_a_collector_that_is_down_costs_spans_not_requests(self):
        port = self.collector.port
        self.collector.stop()
        for _ in range(20):
            self.assertEqual(get(self.a_port)[0], 200)
        wait_for(lambda: self.a.metric("weft_tracing_spans_dropped_total",
                                       reason="export_failed") >= 1,
                 "the dropped spans to be counted")
        self.collector = OtlpCollector(port, self.collector.http_port)
        status, body = get(self.a_port)
        self.assertEqual(status, 200)
        self.trace(json.loads(body)["traceparent"].split("-")[1])
        self.assertGreaterEqual(self.a.metric("weft_tracing_spans_exported_total"), 1)


class SamplingTest(unittest.TestCase):
    def test_random_sampling_takes_its_share_of_new_traces(self):
        collector = OtlpCollector()
        app = Backend("app")
        port = free_port()
        proxy = hop("edge", port, "INBOUND", app.port, collector.port, "edge", sampling=25.0)
        try:
            sampled = 0
            for _ in range(400):
                status, body = get(port)
                self.assertEqual(status, 200)
                sampled += json.loads(body)["traceparent"].endswith("-01")
            # Binomial(400, 0.25): mean 100, sd 8.7; 60..140 is over 4.5 sd.
            self.assertTrue(60 <= sampled <= 140, sampled)
            spans = collector.wait_for_spans(sampled)
            self.assertEqual(len(spans), sampled)
        finally:
            proxy.stop()
            app.stop()
            collector.stop()

    def test_unsupported_tracing_is_refused_with_its_path(self):
        for extra, message in (
                ({"client_sampling": {"value": 10}}, "tracing.client_sampling: not supported"),
                ({"spawn_upstream_span": True}, "tracing.spawn_upstream_span: not supported"),
                ({"random_sampling": {"value": 150}}, "random_sampling.value: must be within")):
            listener = http_listener("edge", free_port(),
                                     [{"name": "all", "domains": ["*"],
                                       "routes": [route_to("next")]}],
                                     tracing=tracing("edge", **extra))
            config = bootstrap([listener], [static_cluster("next", [free_port()]),
                                            static_cluster("otel", [free_port()])], free_port())
            code, output, _ = run_proxy_expect_failure(json.dumps(config), suffix=".json")
            self.assertNotEqual(code, 0)
            self.assertIn(message, output)
        listener = http_listener("edge", free_port(), [{"name": "all", "domains": ["*"],
                                                        "routes": [route_to("next")]}],
                                 tracing=tracing("edge"))
        config = bootstrap([listener], [static_cluster("next", [free_port()])], free_port())
        code, output, _ = run_proxy_expect_failure(json.dumps(config), suffix=".json")
        self.assertIn("envoy_grpc.cluster_name: unknown cluster 'otel'", output)


if __name__ == "__main__":
    unittest.main()
