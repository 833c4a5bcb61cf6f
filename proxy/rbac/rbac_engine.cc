#include "proxy/rbac/rbac_engine.h"

namespace weft::rbac {

bool PermissionLeaf::matches(const RequestContext& request) const {
  // A TCP connection has no headers: a header or path rule cannot match it.
  if (request.headers == nullptr) return false;
  switch (kind) {
    case Kind::kHeader:
      return header.matches(*request.headers);
    case Kind::kPath:
      return path.matches(matcher::pathWithoutQuery(request.headers->path()));
  }
  return false;
}

bool PrincipalLeaf::matches(const RequestContext& request) const {
  if (!request.authenticated) return false;
  return !has_name || name.matches(request.peer_identity);
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
