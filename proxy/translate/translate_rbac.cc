#include "proxy/translate/translate_rbac.h"

#include <algorithm>

#include "proxy/translate/translate_matcher.h"

namespace weft::translate {

namespace rbac_v3 = envoy::config::rbac::v3;

namespace {

// The children of an and/or set, each translated by `from` (which recurses).
template <class Tree, class Proto, class From>
bool childrenFrom(const google::protobuf::RepeatedPtrField<Proto>& items, const std::string& where,
                  Tree* out, common::ErrorList& errors, From from) {
  bool ok = true;
  for (int i = 0; i < items.size(); ++i) {
    out->children.emplace_back();
    ok &= from(items.Get(i), where + "[" + std::to_string(i) + "]", &out->children.back(), errors);
  }
  return ok;
}

bool permissionFrom(const rbac_v3::Permission& proto, const std::string& path,
                    rbac::Permission* out, common::ErrorList& errors) {
  using Kind = rbac::Permission::Kind;
  using Leaf = rbac::PermissionLeaf::Kind;
  switch (proto.rule_case()) {
    case rbac_v3::Permission::kAny:
      out->kind = Kind::kAny;
      return true;
    case rbac_v3::Permission::kAndRules:
      out->kind = Kind::kAnd;
      return childrenFrom(proto.and_rules().rules(), path + ".and_rules.rules", out, errors,
                          permissionFrom);
    case rbac_v3::Permission::kOrRules:
      out->kind = Kind::kOr;
      return childrenFrom(proto.or_rules().rules(), path + ".or_rules.rules", out, errors,
                          permissionFrom);
    case rbac_v3::Permission::kNotRule:
      out->kind = Kind::kNot;
      out->children.emplace_back();
      return permissionFrom(proto.not_rule(), path + ".not_rule", &out->children[0], errors);
    case rbac_v3::Permission::kHeader:
      out->kind = Kind::kLeaf;
      out->leaf.kind = Leaf::kHeader;
      return headerMatchFrom(proto.header(), path + ".header", &out->leaf.header, errors);
    case rbac_v3::Permission::kUrlPath:
      out->kind = Kind::kLeaf;
      out->leaf.kind = Leaf::kPath;
      return stringMatchFrom(proto.url_path().path(), path + ".url_path.path", &out->leaf.path,
                             errors);
    default:
      errors.add(path, "one of any, and_rules, or_rules, not_rule, header, url_path is required");
      return false;
  }
}

bool principalFrom(const rbac_v3::Principal& proto, const std::string& path, rbac::Principal* out,
                   common::ErrorList& errors) {
  using Kind = rbac::Principal::Kind;
  switch (proto.identifier_case()) {
    case rbac_v3::Principal::kAny:
      out->kind = Kind::kAny;
      return true;
    case rbac_v3::Principal::kAndIds:
      out->kind = Kind::kAnd;
      return childrenFrom(proto.and_ids().ids(), path + ".and_ids.ids", out, errors, principalFrom);
    case rbac_v3::Principal::kOrIds:
      out->kind = Kind::kOr;
      return childrenFrom(proto.or_ids().ids(), path + ".or_ids.ids", out, errors, principalFrom);
    case rbac_v3::Principal::kNotId:
      out->kind = Kind::kNot;
      out->children.emplace_back();
      return principalFrom(proto.not_id(), path + ".not_id", &out->children[0], errors);
    case rbac_v3::Principal::kAuthenticated:
      out->kind = Kind::kLeaf;
      if (!proto.authenticated().has_principal_name()) return true;
      out->leaf.has_name = true;
      return stringMatchFrom(proto.authenticated().principal_name(),
                             path + ".authenticated.principal_name", &out->leaf.name, errors);
    default:
      errors.add(path, "one of any, and_ids, or_ids, not_id, authenticated is required");
      return false;
  }
}

}  // namespace

bool rbacFrom(const rbac_v3::RBAC& proto, const std::string& path, rbac::RbacEnginePtr* out,
              common::ErrorList& errors) {
  if (proto.action() == rbac_v3::RBAC::LOG) {
    errors.add(path + ".action", "LOG is not supported (ALLOW or DENY)");
    return false;
  }
  bool ok = true;
  // Envoy evaluates policies in name order (a map): so does weft, so the
  // "policy that decided" is the same.
  std::vector<std::string> names;
  for (const auto& [name, policy] : proto.policies()) names.push_back(name);
  std::sort(names.begin(), names.end());
  std::vector<rbac::Policy> policies;
  for (const auto& name : names) {
    const auto& p = proto.policies().at(name);
    std::string ppath = path + ".policies[\"" + name + "\"]";
    rbac::Policy policy;
    policy.name = name;
    if (p.permissions_size() == 0 || p.principals_size() == 0) {
      errors.add(ppath, "needs at least one permission and one principal");
      ok = false;
      continue;
    }
    for (int i = 0; i < p.permissions_size(); ++i) {
      policy.permissions.emplace_back();
      ok &= permissionFrom(p.permissions(i), ppath + ".permissions[" + std::to_string(i) + "]",
                           &policy.permissions.back(), errors);
    }
    for (int i = 0; i < p.principals_size(); ++i) {
      policy.principals.emplace_back();
      ok &= principalFrom(p.principals(i), ppath + ".principals[" + std::to_string(i) + "]",
                          &policy.principals.back(), errors);
    }
    policies.push_back(std::move(policy));
  }
  if (!ok) return false;
  *out = std::make_shared<rbac::RbacEngine>(proto.action() == rbac_v3::RBAC::ALLOW
                                                ? rbac::RbacEngine::Action::kAllow
                                                : rbac::RbacEngine::Action::kDeny,
                                            std::move(policies));
  return true;
}

}  // namespace weft::translate
