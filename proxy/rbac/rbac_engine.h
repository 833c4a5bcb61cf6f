#pragma once

// Envoy's RBAC, compiled: policies of permissions (what is asked: path,
// method, headers) and principals (who asks: the peer's SPIFFE identity from
// mTLS). A policy matches when any of its permissions and any of its
// principals match; ALLOW lets through what some policy matches (nothing
// else), DENY refuses it.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/header_map.h"
#include "proxy/matcher/matcher.h"

namespace weft::rbac {

// What a decision looks at. `headers` is null for a TCP connection.
struct RequestContext {
  const http::HeaderMap* headers = nullptr;
  std::string_view peer_identity;  // URI SAN of the peer certificate, "" if none
  bool authenticated = false;      // the peer presented a verified certificate
};

// Envoy's permission and principal trees share their shape: any, and, or,
// not over children; what differs is the leaves.
template <class Leaf>
struct RuleTree {
  enum class Kind { kAny, kAnd, kOr, kNot, kLeaf };
  Kind kind = Kind::kAny;
  std::vector<RuleTree> children;  // kAnd, kOr; kNot: one
  Leaf leaf;                       // kLeaf

  bool matches(const RequestContext& request) const {
    switch (kind) {
      case Kind::kAny:
        return true;
      case Kind::kNot:
        return !children.empty() && !children[0].matches(request);
      case Kind::kAnd:
        for (const auto& c : children) {
          if (!c.matches(request)) return false;
        }
        return true;
      case Kind::kOr:
        for (const auto& c : children) {
          if (c.matches(request)) return true;
        }
        return false;
      case Kind::kLeaf:
        return leaf.matches(request);
    }
    return false;
  }
};

// What is asked: a header, or the path without its query.
struct PermissionLeaf {
  enum class Kind { kHeader, kPath };
  Kind kind = Kind::kHeader;
  matcher::HeaderMatch header;
  matcher::StringMatch path;
  bool matches(const RequestContext& request) const;
};

// Who asks: an authenticated peer, optionally with a matching identity
// (without a name, any verified peer).
struct PrincipalLeaf {
  bool has_name = false;
  matcher::StringMatch name;
  bool matches(const RequestContext& request) const;
};

using Permission = RuleTree<PermissionLeaf>;
using Principal = RuleTree<PrincipalLeaf>;

struct Policy {
  std::string name;
  std::vector<Permission> permissions;
  std::vector<Principal> principals;
  bool matches(const RequestContext& request) const;
};

class RbacEngine {
 public:
  enum class Action { kAllow, kDeny };
  RbacEngine(Action action, std::vector<Policy> policies)
      : action_(action), policies_(std::move(policies)) {}

  // True when the request may go on; `policy` names the policy that decided
  // (empty when none matched).
  bool allowed(const RequestContext& request, std::string* policy = nullptr) const;

 private:
  Action action_;
  std::vector<Policy> policies_;
};

using RbacEnginePtr = std::shared_ptr<const RbacEngine>;

}  // namespace weft::rbac
