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

struct Permission {
  enum class Kind { kAny, kAnd, kOr, kNot, kHeader, kPath };
  Kind kind = Kind::kAny;
  std::vector<Permission> children;  // kAnd, kOr; kNot: one
  matcher::HeaderMatch header;
  matcher::StringMatch path;  // against :path without the query
  bool matches(const RequestContext& request) const;
};

struct Principal {
  enum class Kind { kAny, kAnd, kOr, kNot, kAuthenticated };
  Kind kind = Kind::kAny;
  std::vector<Principal> children;
  bool has_name = false;  // kAuthenticated: without a name, any verified peer
  matcher::StringMatch name;
  bool matches(const RequestContext& request) const;
};

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
