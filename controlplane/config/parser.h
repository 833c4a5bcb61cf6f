#pragma once

// Kubernetes-style YAML (multi-document) -> weft's config objects. Each
// document is one object; a document that cannot be understood is reported
// with its file, document number, kind/name and field path, and skipped.

#include <string>

#include "controlplane/model/objects.h"

namespace weft::control {

// Parses every document of `text`, appending objects and errors to `out`.
void parseYamlDocuments(const std::string& text, const std::string& file, ConfigSet& out);

// Reads every *.yaml / *.yml file of `dir` (sorted by name), then validates.
// An object rejected now whose last valid version is in `previous` keeps
// that version, so a bad edit never takes a working route away.
ConfigSet loadConfigDir(const std::string& dir, const ConfigSet* previous = nullptr);

// Gateway API durations (GEP-2257): "1h", "30m", "10s", "250ms", combined
// ("1m30s"). nullopt when malformed.
std::optional<uint64_t> parseGatewayDurationMs(const std::string& text);

}  // namespace weft::control
