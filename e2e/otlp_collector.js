// A stand-in OpenTelemetry collector for the tests: an OTLP/gRPC
// TraceService/Export server on grpc-js, decoding each request with the
// OpenTelemetry project's own generated protobuf code
// (@opentelemetry/otlp-transformer), so weft's encoding is checked by a
// decoder weft did not write. Each span is appended as one JSON line to
// OUT_FILE: ids in hex, kind and status by enum name, attributes flattened.
//
// With HTTP_PORT, also an OTLP/HTTP receiver (POST /v1/traces, protobuf).
//
// usage: node otlp_collector.js PORT OUT_FILE [HTTP_PORT]   (modules: $WEFT_OTLP_MODULES)
'use strict';
const fs = require('fs');
const path = require('path');

const modules = process.env.WEFT_OTLP_MODULES;
const grpc = require(path.join(modules, '@grpc/grpc-js'));
const root = require(path.join(
    modules, '@opentelemetry/otlp-transformer/build/src/generated/root.js'));
const collector = root.opentelemetry.proto.collector.trace.v1;
const [port, outFile, httpPort] = process.argv.slice(2);

function value(any) {
  for (const k of ['stringValue', 'boolValue', 'intValue', 'doubleValue']) {
    if (any[k] === undefined || any[k] === null) continue;
    return k === 'intValue' ? Number(any[k].toString()) : any[k];  // int64: a Long
  }
  return null;
}

function attributes(list) {
  const out = {};
  for (const kv of list || []) out[kv.key] = value(kv.value || {});
  return out;
}

function hex(bytes) { return Buffer.from(bytes || []).toString('hex'); }

function record(request) {
  const lines = [];
  for (const rs of request.resourceSpans) {
    const resource = attributes((rs.resource || {}).attributes);
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        lines.push(JSON.stringify({
          resource,
          scope: (ss.scope || {}).name,
          trace_id: hex(s.traceId),
          span_id: hex(s.spanId),
          parent_span_id: hex(s.parentSpanId),
          trace_state: s.traceState,
          flags: s.flags,
          name: s.name,
          kind: root.opentelemetry.proto.trace.v1.Span.SpanKind[s.kind],
          start_ns: s.startTimeUnixNano.toString(),
          end_ns: s.endTimeUnixNano.toString(),
          attributes: attributes(s.attributes),
          status: root.opentelemetry.proto.trace.v1.Status.StatusCode[(s.status || {}).code || 0],
        }));
      }
    }
  }
  if (lines.length) fs.appendFileSync(outFile, lines.join('\n') + '\n');
}

function onExport(call, callback) {
  record(call.request);
  callback(null, {});
}

if (httpPort) {
  require('http').createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' ||
          req.headers['content-type'] !== 'application/x-protobuf') {
        res.writeHead(400).end('want POST /v1/traces, application/x-protobuf');
        return;
      }
      record(collector.ExportTraceServiceRequest.decode(Buffer.concat(chunks)));
      res.writeHead(200, {'content-type': 'application/x-protobuf'});
      res.end(Buffer.from(collector.ExportTraceServiceResponse.encode({}).finish()));
    });
  }).listen(Number(httpPort), '127.0.0.1', () => console.log('http listening ' + httpPort));
}

const server = new grpc.Server();
server.addService({
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestDeserialize: (buffer) => collector.ExportTraceServiceRequest.decode(buffer),
    requestSerialize: (message) => collector.ExportTraceServiceRequest.encode(message).finish(),
    responseSerialize: (message) =>
        Buffer.from(collector.ExportTraceServiceResponse.encode(message).finish()),
    responseDeserialize: (buffer) => collector.ExportTraceServiceResponse.decode(buffer),
  },
}, {Export: onExport});
server.bindAsync('127.0.0.1:' + port, grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err) {
    console.error('otlp_collector: ' + err.message);
    process.exit(1);
  }
  console.log('listening ' + bound);
});
