#include "proxy/rbac/rbac_engine.h"

namespace weft::rbac {

namespace {

// and / or / not over a node's children, shared by permissions and principals.
template <class Node>
bool combine(typename Node::Kind kind, const std::vector<Node>& children,
             const RequestContext& request) {
  using Kind = typename Node::Kind;
  if (kind == Kind::kNot) return !children.empty() && !children[0].matches(request);
  bool all = kind == Kind::kAnd;
  for (const auto& c : children) {
    if (c.matches(request) != all) return !all;
  }
  return all;
}

}  // namespace

bool Permission::matches(const RequestContext& request) const {
  switch (kind) {
    case Kind::kAny:
      return true;
    case Kind::kAnd:
    case Kind::kOr:
    case Kind::kNot:
      return combine(kind, children, request);
    case Kind::kHeader: {
      // A TCP connection has no headers: a header rule cannot match it.
      return request.headers != nullptr && header.matches(*request.headers);
    }
    case Kind::kPath: {
      if (request.headers == nullptr) return false;
      return path.matches(matcher::pathWithoutQuery(request.headers->path()));
    }
  }
  return false;
}

bool Principal::matches(const RequestContext& request) const {
  switch (kind) {
    case Kind::kAny:
      return true;
    case Kind::kAnd:
    case Kind::kOr:
    case Kind::kNot:
      return combine(kind, children, request);
    case Kind::kAuthenticated:
      if (!request.authenticated) return false;
      return !has_name || name.matches(request.peer_identity);
  }
  return false;
}

bool Policy::matches(const RequestContext& request) const {
  bool permitted = false;
  for (const auto& p : permissions) {
    if (p.matches(request)) {
      permitted = true;
      break;
    }
  }
  if (!permitted) return false;
  for (const auto& p : principals) {
    if (p.matches(request)) return true;
  }
  return false;
}

bool RbacEngine::allowed(const RequestContext& request, std::string* policy) const {
  for (const auto& p : policies_) {
    if (p.matches(request)) {
      if (policy != nullptr) *policy = p.name;
      return action_ == Action::kAllow;
    }
  }
  if (policy != nullptr) policy->clear();
  return action_ == Action::kDeny;
}

}  // namespace weft::rbac
