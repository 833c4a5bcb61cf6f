#pragma once

// The mesh CA's root kept in a Kubernetes Secret (--ca-secret NAMESPACE/NAME),
// so a restarted or rescheduled weft-control signs with the same root and
// the mesh's trust survives it (an emptyDir would mint a new root each time).
// The first weft-control to start generates the root and creates the Secret;
// one that loses that race (409) reads the winner's.

#include <string>

#include "common/http/blocking_client.h"

namespace weft::control::kube {

struct CaSecret {
  std::string cert_pem;
  std::string key_pem;
  std::string origin;  // for the log: "Secret NS/NAME (created)" or "(existing)"
};

// "NAMESPACE/NAME"; on failure returns false with `error` naming the problem.
bool loadOrCreateCaSecret(const http::HttpEndpoint& server, const std::string& ref,
                          const std::string& trust_domain, CaSecret* out, std::string* error);

}  // namespace weft::control::kube
