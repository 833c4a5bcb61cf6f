#include "injector/patch_assembly.h"

#include <string>

#include "injector/injected_names.h"
#include "injector/pod_injector.h"
#include "injector/pod_json.h"
#include "injector/sidecar_templates.h"

namespace weft::injector {

using json = nlohmann::json;

namespace {

// JSON Pointer escaping (RFC 6901) of one path segment.
std::string escapePointer(const std::string& segment) {
  std::string out;
  for (char c : segment) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

void addOp(json* patch, const std::string& path, json value) {
  patch->push_back({{"op", "add"}, {"path", path}, {"value", std::move(value)}});
}

}  // namespace

json injectionPatch(const json& pod, const InjectorConfig& config, const json& init,
                    const json& proxy, bool native, bool exit_with_app) {
  const json& spec = field(pod, "spec");
  json patch = json::array();
  json status = {
      {"version", kVersion},
      {"sidecar", native ? "native" : "container"},
      {"initContainers", native ? json{kInitName, kProxyName} : json{kInitName}},
      {"containers", native ? json::array() : json{kProxyName}},
      {"volumes", {kRuntimeVolume, kTokenVolume, kRootVolume}},
  };
  json annotations = {
      {kStatusAnnotation, status.dump()},
      {"prometheus.io/scrape", "true"},
      {"prometheus.io/port", std::to_string(config.status_port)},
      {"prometheus.io/path", "/stats/prometheus"},
  };
  const json& existing = field(field(pod, "metadata"), "annotations");
  if (!field(pod, "metadata").is_object()) {
    addOp(&patch, "/metadata", {{"annotations", annotations}});
  } else if (!existing.is_object()) {
    addOp(&patch, "/metadata/annotations", annotations);
  } else {
    // An app that already publishes prometheus.io/* keeps its own.
    for (const auto& [key, value] : annotations.items()) {
      if (key != kStatusAnnotation && existing.contains(key)) continue;
      addOp(&patch, "/metadata/annotations/" + escapePointer(key), value);
    }
  }

  // weft-init first: it must run before anything that opens a socket; the
  // native sidecar next, so later init containers already have the mesh.
  if (!field(spec, "initContainers").is_array()) {
    addOp(&patch, "/spec/initContainers", native ? json{init, proxy} : json{init});
  } else {
    if (native) addOp(&patch, "/spec/initContainers/0", proxy);
    addOp(&patch, "/spec/initContainers/0", init);
  }
  // Without native sidecars the proxy goes first among the containers (see
  // its postStart hook).
  if (!native) addOp(&patch, "/spec/containers/0", proxy);

  if (!field(spec, "volumes").is_array()) {
    addOp(&patch, "/spec/volumes", volumes());
  } else {
    for (const auto& volume : volumes()) addOp(&patch, "/spec/volumes/-", volume);
  }
  // A Job's pod with the proxy as a regular container: sharing the process
  // namespace lets the proxy see the app exit and end too.
  if (exit_with_app) addOp(&patch, "/spec/shareProcessNamespace", true);
  return patch;
}

}  // namespace weft::injector
