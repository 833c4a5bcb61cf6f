#!/usr/bin/env python3
"""Writes weft's Grafana dashboards (mesh overview, service, workload) next to
this file. The JSON is the artifact users import (deploy/dashboards/*.json)
and the Helm chart ships as a ConfigMap; this script is its source, and the
test suite checks they do not drift and runs every PromQL expression in them
against a real Prometheus scraping a weft mesh.

    python3 deploy/dashboards/make_dashboards.py
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"


def panel(title, exprs, unit, x, y, w=12, h=8, kind="timeseries"):
    """`exprs`: [(PromQL, legend), ...]."""
    return {
        "type": kind, "title": title, "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"datasource": DATASOURCE, "expr": e, "legendFormat": legend,
                     "refId": chr(ord("A") + i)} for i, (e, legend) in enumerate(exprs)],
    }


def variable(name, query, label):
    return {"name": name, "label": label, "type": "query", "datasource": DATASOURCE,
            "query": {"query": query, "refId": name}, "definition": query, "refresh": 2,
            "sort": 1, "includeAll": False, "multi": False}


def dashboard(uid, title, panels, variables=()):
    return {
        "uid": uid, "title": title, "tags": ["weft", "service-mesh"], "editable": True,
        "schemaVersion": 39, "version": 1, "refresh": "10s",
        "time": {"from": "now-30m", "to": "now"},
        "templating": {"list": [{"name": "datasource", "label": "Prometheus",
                                 "type": "datasource", "query": "prometheus"},
                                *variables]},
        "panels": panels,
    }


def success_rate(selector, by=""):
    group = " by (%s)" % by if by else ""
    return ('sum(rate(istio_requests_total{%s,response_code!~"5.."}[%s]))%s / '
            'sum(rate(istio_requests_total{%s}[%s]))%s' % (selector, RATE, group, selector,
                                                            RATE, group))


def quantile(q, selector, by="le"):
    return ("histogram_quantile(%s, sum(rate(istio_request_duration_milliseconds_bucket{%s}[%s]))"
            " by (%s))" % (q, selector, RATE, by))


def mesh():
    d = 'reporter="destination"'
    return dashboard("weft-mesh", "weft / Mesh", [
        panel("Requests per second", [("sum(rate(istio_requests_total{%s}[%s]))" % (d, RATE),
                                       "mesh")], "reqps", 0, 0, 8, 6, "stat"),
        panel("Success rate (non-5xx)", [(success_rate(d), "mesh")], "percentunit", 8, 0, 8, 6,
              "stat"),
        panel("p99 latency", [(quantile("0.99", d), "mesh")], "ms", 16, 0, 8, 6, "stat"),
        panel("Requests per second by service", [(
            "sum(rate(istio_requests_total{%s}[%s])) by (destination_service)" % (d, RATE),
            "{{destination_service}}")], "reqps", 0, 6),
        panel("Success rate by service", [(success_rate(d, "destination_service"),
                                           "{{destination_service}}")], "percentunit", 12, 6),
        panel("p50 / p90 / p99 by service", [
            (quantile(q, d, "le, destination_service"), "{{destination_service}} p%s" % p)
            for q, p in (("0.50", "50"), ("0.90", "90"), ("0.99", "99"))], "ms", 0, 14),
        # TCP by service from the callers' sidecars: a callee's sidecar cannot tell which
        # Service an opaque stream was meant for.
        panel("TCP bytes by service", [
            ('sum(rate(istio_tcp_sent_bytes_total{reporter="source"}[%s])) '
             'by (destination_service)' % RATE, "{{destination_service}} sent"),
            ('sum(rate(istio_tcp_received_bytes_total{reporter="source"}[%s])) '
             'by (destination_service)' % RATE, "{{destination_service}} received")],
            "Bps", 12, 14),
        panel("TLS handshake failures by reason", [(
            "sum(rate(weft_tls_handshake_failures_total[%s])) by (side, reason)" % RATE,
            "{{side}} {{reason}}")], "ops", 0, 22),
        panel("Requests ended by the proxy, by response flag", [(
            'sum(rate(istio_requests_total{response_flags!="-"}[%s])) by (reporter, '
            'response_flags)' % RATE, "{{reporter}} {{response_flags}}")], "reqps", 12, 22),
        panel("weft-control: connected proxies and configuration errors", [
            ("sum(weft_control_connected_proxies)", "connected proxies"),
            ("sum(weft_control_config_errors)", "rejected objects")], "short", 0, 30),
        panel("weft-control: xDS pushes, ACKs, NACKs", [
            ("sum(rate(weft_control_xds_pushes_total[%s]))" % RATE, "pushes"),
            ("sum(rate(weft_control_xds_acks_total[%s])) by (type)" % RATE, "ACK {{type}}"),
            ("sum(rate(weft_control_xds_nacks_total[%s]))" % RATE, "NACKs")], "ops", 12, 30),
        panel("weft-control: push to ACK, p99", [(
            "histogram_quantile(0.99, sum(rate(weft_control_xds_push_ack_seconds_bucket[%s])) "
            "by (le))" % RATE, "p99")], "s", 0, 38),
    ])


def service():
    d = ('reporter="destination",destination_service_namespace="$namespace",'
         'destination_service_name="$service"')
    s = ('reporter="source",destination_service_namespace="$namespace",'
         'destination_service_name="$service"')
    return dashboard("weft-service", "weft / Service", [
        panel("Requests per second (by callee's sidecar)", [(
            "sum(rate(istio_requests_total{%s}[%s])) by (response_code)" % (d, RATE),
            "{{response_code}}")], "reqps", 0, 0),
        panel("Success rate: callee's and callers' view", [
            (success_rate(d), "destination"), (success_rate(s), "source")], "percentunit", 12, 0),
        panel("Latency p50 / p90 / p99", [(quantile(q, d), "p" + p)
                                          for q, p in (("0.50", "50"), ("0.90", "90"),
                                                       ("0.99", "99"))], "ms", 0, 8),
        panel("Requests per second by caller", [(
            "sum(rate(istio_requests_total{%s}[%s])) by (source_workload, "
            "source_workload_namespace)" % (d, RATE),
            "{{source_workload_namespace}}/{{source_workload}}")], "reqps", 12, 8),
        panel("Success rate by version (canary)", [(
            success_rate(d, "destination_workload, destination_version"),
            "{{destination_workload}} {{destination_version}}")], "percentunit", 0, 16),
        panel("p99 by version (canary)", [(
            quantile("0.99", d, "le, destination_workload"), "{{destination_workload}}")],
            "ms", 12, 16),
        panel("TCP bytes (callers' view)", [
            ("sum(rate(istio_tcp_sent_bytes_total{%s}[%s]))" % (s, RATE), "sent"),
            ("sum(rate(istio_tcp_received_bytes_total{%s}[%s]))" % (s, RATE), "received")],
            "Bps", 0, 24),
        panel("TCP connections opened / closed (callers' view)", [
            ("sum(rate(istio_tcp_connections_opened_total{%s}[%s]))" % (s, RATE), "opened"),
            ("sum(rate(istio_tcp_connections_closed_total{%s}[%s]))" % (s, RATE), "closed")],
            "ops", 12, 24),
    ], [variable("namespace", "label_values(istio_requests_total, "
                              "destination_service_namespace)", "Namespace"),
        variable("service", 'label_values(istio_requests_total{destination_service_namespace='
                            '"$namespace"}, destination_service_name)', "Service")])


def workload():
    inbound = ('reporter="destination",destination_workload_namespace="$namespace",'
               'destination_workload="$workload"')
    outbound = ('reporter="source",source_workload_namespace="$namespace",'
                'source_workload="$workload"')
    return dashboard("weft-workload", "weft / Workload", [
        panel("Inbound requests per second", [(
            "sum(rate(istio_requests_total{%s}[%s])) by (source_workload)" % (inbound, RATE),
            "from {{source_workload}}")], "reqps", 0, 0),
        panel("Inbound success rate", [(success_rate(inbound), "success")], "percentunit", 12, 0),
        panel("Inbound latency p50 / p90 / p99", [(quantile(q, inbound), "p" + p)
                                                  for q, p in (("0.50", "50"), ("0.90", "90"),
                                                               ("0.99", "99"))], "ms", 0, 8),
        panel("Outbound requests per second", [(
            "sum(rate(istio_requests_total{%s}[%s])) by (destination_service)" % (outbound, RATE),
            "to {{destination_service}}")], "reqps", 12, 8),
        panel("Outbound success rate", [(success_rate(outbound, "destination_service"),
                                         "{{destination_service}}")], "percentunit", 0, 16),
        panel("Outbound latency p99", [(quantile("0.99", outbound, "le, destination_service"),
                                        "{{destination_service}}")], "ms", 12, 16),
        panel("Inbound TCP bytes", [
            ("sum(rate(istio_tcp_received_bytes_total{%s}[%s]))" % (inbound, RATE), "received"),
            ("sum(rate(istio_tcp_sent_bytes_total{%s}[%s]))" % (inbound, RATE), "sent")],
            "Bps", 0, 24),
    ], [variable("namespace", "label_values(istio_requests_total, "
                              "destination_workload_namespace)", "Namespace"),
        variable("workload", 'label_values(istio_requests_total{destination_workload_namespace='
                             '"$namespace"}, destination_workload)', "Workload")])


DASHBOARDS = {"weft-mesh.json": mesh, "weft-service.json": service,
              "weft-workload.json": workload}


def render():
    return {name: json.dumps(make(), indent=2, sort_keys=True) + "\n"
            for name, make in DASHBOARDS.items()}


if __name__ == "__main__":
    for name, text in render().items():
        with open(os.path.join(HERE, name), "w") as f:
            f.write(text)
        print("deploy/dashboards/" + name)
