#include "controlplane/config/grpc_route_decoder.h"

#include <re2/re2.h>

#include "controlplane/config/route_fields.h"
#include "controlplane/config/yaml_fields.h"

namespace weft::control {

namespace {

// The GRPCMethodMatch rules for Exact values: a protobuf package-qualified
// service name, and a method identifier; neither may hold '/'.
bool isServiceName(const std::string& s) {
  static const re2::RE2 re("(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*");
  return re2::RE2::FullMatch(s, re);
}

bool isMethodName(const std::string& s) {
  static const re2::RE2 re("[A-Za-z_][A-Za-z_0-9]*");
  return re2::RE2::FullMatch(s, re);
}

HttpRouteMatch::GrpcMethod methodMatch(const YAML::Node& node, const std::string& path) {
  supportedKeys(node, path, {"type", "service", "method"});
  HttpRouteMatch::GrpcMethod m;
  std::string type = str(node["type"], path + ".type");
  if (!type.empty()) m.type = type;
  if (m.type != "Exact" && m.type != "RegularExpression") {
    throw FieldError{path + ".type", "'" + m.type + "' is not Exact or RegularExpression"};
  }
  m.service = str(node["service"], path + ".service");
  m.method = str(node["method"], path + ".method");
  if (m.service.empty() && m.method.empty()) {
    throw FieldError{path, "one or both of service and method must be given"};
  }
  if (m.type == "Exact" && !m.service.empty() && !isServiceName(m.service)) {
    throw FieldError{path + ".service",
                     "'" + m.service + "' is not a gRPC service name (e.g. 'pkg.v1.Greeter')"};
  }
  if (m.type == "Exact" && !m.method.empty() && !isMethodName(m.method)) {
    throw FieldError{path + ".method", "'" + m.method + "' is not a gRPC method name"};
  }
  return m;
}

HttpRouteMatch match(const YAML::Node& node, const std::string& mpath) {
  supportedKeys(node, mpath, {"method", "headers"});
  HttpRouteMatch m;
  if (const YAML::Node method = node["method"]) {
    m.grpc_method = methodMatch(method, mpath + ".method");
  }
  m.headers = nameValueMatches(node["headers"], mpath + ".headers", "header", false);
  return m;
}

void filter(const YAML::Node& node, size_t index, const std::string& fpath, HttpRouteRule& rule) {
  std::string type = str(node["type"], fpath + ".type");
  if (sharedRuleFilter(node, type, index, fpath, rule)) return;
  throw FieldError{fpath + ".type", "'" + type +
                                        "' is not supported by weft (it supports "
                                        "RequestHeaderModifier, ResponseHeaderModifier, "
                                        "RequestMirror on a GRPCRoute)"};
}

HttpRouteRule rule(const YAML::Node& r, const std::string& rpath) {
  supportedKeys(r, rpath, {"matches", "filters", "backendRefs"});
  HttpRouteRule rule = ruleLists(r, rpath, match, filter);
  return rule;
}

}  // namespace

HttpRoute parseGrpcRoute(const YAML::Node& doc, ObjectMeta m) {
  return readRoute(doc, std::move(m), HttpRoute::Kind::kGrpc, rule);
}

}  // namespace weft::control
