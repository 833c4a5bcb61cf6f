#pragma once

// The Gateway API's shared route fields (HTTPRoute, and GRPCRoute's parts
// that are the same): parentRefs, hostnames, backendRefs, header matches,
// header modifiers and mirrors. Every key these read is one weft implements;
// any other key of the Gateway API schema is an error naming it ("not
// supported by weft"), never dropped.

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "controlplane/model/objects.h"

namespace weft::control {

// Throws for the first key of `node` not in `supported`, saying weft does
// not support it (the Gateway API may well define it).
void supportedKeys(const YAML::Node& node, const std::string& path,
                   std::initializer_list<const char*> supported);

// A YAML sequence at `path`, or an empty one when absent; throws when it is
// something else.
YAML::Node sequence(const YAML::Node& node, const std::string& path);

std::vector<ParentRef> parentRefs(const YAML::Node& spec);
// spec.hostnames: DNS names, optionally "*." first; no IPs.
std::vector<std::string> routeHostnames(const YAML::Node& spec);
// One backendRefs[] entry; `allow_filters`: its header-modifier filters too.
BackendRef backendRef(const YAML::Node& node, const std::string& path, bool allow_filters);
// headers[] / queryParams[]: {type: Exact|RegularExpression, name, value};
// `what` names them in errors. Names given twice are an error (the spec
// would have the second ignored).
std::vector<HttpRouteMatch::Header> nameValueMatches(const YAML::Node& node,
                                                     const std::string& path, const char* what,
                                                     bool names_case_sensitive);
// RequestHeaderModifier / ResponseHeaderModifier: {set, add, remove}.
HeaderModifier headerModifier(const YAML::Node& node, const std::string& path);
// RequestMirror: {backendRef, percent | fraction}.
RequestMirror requestMirror(const YAML::Node& node, const std::string& path);
// A rule's matches[], filters[] and backendRefs[], matches and filters read
// by the route kind's own readers.
using MatchReader = HttpRouteMatch (*)(const YAML::Node& node, const std::string& path);
using FilterReader = void (*)(const YAML::Node& node, size_t index, const std::string& path,
                              HttpRouteRule& rule);
HttpRouteRule ruleLists(const YAML::Node& rule, const std::string& path, MatchReader match,
                        FilterReader filter);
// A whole route: spec {parentRefs, hostnames, rules}, each rule read by
// `rule` (the kind's own reader).
using RuleReader = HttpRouteRule (*)(const YAML::Node& node, const std::string& path);
HttpRoute readRoute(const YAML::Node& doc, ObjectMeta meta, HttpRoute::Kind kind, RuleReader rule);
// filters[] entry `node` of a rule, of the types both route kinds share
// (RequestHeaderModifier, ResponseHeaderModifier, RequestMirror) into `rule`;
// false for any other type, which the caller reads or refuses.
bool sharedRuleFilter(const YAML::Node& node, const std::string& type, size_t index,
                      const std::string& fpath, HttpRouteRule& rule);

}  // namespace weft::control
