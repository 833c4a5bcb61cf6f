#pragma once

// Kubernetes-style YAML (multi-document) -> weft's config objects. Each
// document is one object; a document that cannot be understood is reported
// with its file, document number, kind/name and field path, and skipped.

#include <string>

#include "controlplane/model/objects.h"

namespace weft::control {

// Parses every document of `text`, appending objects and errors to `out`.
void parseYamlDocuments(const std::string& text, const std::string& file, ConfigSet& out);

}  // namespace weft::control
