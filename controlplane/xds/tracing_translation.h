#pragma once

// MeshConfig spec.tracing -> every HTTP connection manager of one proxy's
// listeners (not the API listeners: gRPC's own xDS clients trace
// themselves): Envoy's OpenTelemetry tracer exporting to the collector
// (OTLP/gRPC for "HOST:PORT", OTLP/HTTP for "http://HOST:PORT[/PATH]"),
// random_sampling the mesh's samplingPercent, service.name
// "<canonical service>.<namespace>" as Istio names it. The collector is a
// Service ("name.namespace[.svc.cluster.local]:PORT": its outbound cluster,
// over mTLS when the collector is meshed) or an IP ("IP:PORT": a static
// cluster of its own, weft-tracing-collector).

#include "controlplane/model/objects.h"
#include "controlplane/xds/resources.h"
#include "controlplane/xds/translator.h"

namespace weft::control {

inline constexpr char kTracingCollectorCluster[] = "weft-tracing-collector";

void addTracing(const ConfigSet& config, const ProxyIdentity& proxy, ProxyResources& out);

}  // namespace weft::control
