#pragma once

// What the route translation tests share: a configuration read and validated
// from YAML, and the routes one Service port gets.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "controlplane/config/parser.h"
#include "controlplane/config/validate.h"
#include "controlplane/xds/http_route_translation.h"

namespace weft::control::testing {

// Read and validated; errors stay in set.errors for the caller to check.
inline ConfigSet loadWithErrors(const std::string& yaml) {
  ConfigSet set;
  parseYamlDocuments(yaml, "routes.yaml", set);
  validateConfig(set);
  return set;
}

// Read and validated; any error fails the test.
inline ConfigSet loadValid(const std::string& yaml) {
  ConfigSet set = loadWithErrors(yaml);
  for (const auto& e : set.errors) ADD_FAILURE() << e.toString();
  return set;
}

inline std::vector<envoy::config::route::v3::Route> routesOfPort(const ConfigSet& set,
                                                                 const std::string& ns,
                                                                 const std::string& service,
                                                                 uint16_t port) {
  const Service* svc = set.findService(ns, service);
  if (svc == nullptr) {
    ADD_FAILURE() << "no Service " << ns << "/" << service;
    return {};
  }
  for (const auto& p : svc->ports) {
    if (p.port == port) return httpRouteRoutes(set, *svc, p);
  }
  ADD_FAILURE() << "no port " << port;
  return {};
}

}  // namespace weft::control::testing
