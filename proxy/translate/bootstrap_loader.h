#pragma once

#include <string>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

namespace weft::translate {

// Reads an Envoy-shaped bootstrap (YAML or JSON, by content) into the proto.
// Unknown fields are errors: weft never silently ignores configuration.
// On failure returns false and sets `error` to "FILE: what is wrong".
bool loadBootstrapFile(const std::string& path, envoy::config::bootstrap::v3::Bootstrap* bootstrap,
                       std::string* error);

// Same, from text; `origin` names the source in messages.
bool parseBootstrap(const std::string& text, const std::string& origin,
                    envoy::config::bootstrap::v3::Bootstrap* bootstrap, std::string* error);

}  // namespace weft::translate
