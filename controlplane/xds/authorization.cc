#include "controlplane/xds/authorization.h"

#include <algorithm>

#include "controlplane/xds/resources.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"

namespace weft::control {

namespace rbac_v3 = envoy::config::rbac::v3;

namespace {

void addPrincipal(rbac_v3::Policy* policy, const std::string& value, bool prefix) {
  auto* name = policy->add_principals()->mutable_authenticated()->mutable_principal_name();
  if (prefix) {
    name->set_prefix(value);
  } else {
    name->set_exact(value);
  }
}

rbac_v3::Permission pathPermission(const std::string& path) {
  rbac_v3::Permission p;
  if (path == "*") {
    p.set_any(true);
  } else if (path.back() == '*') {
    p.mutable_url_path()->mutable_path()->set_prefix(path.substr(0, path.size() - 1));
  } else {
    p.mutable_url_path()->mutable_path()->set_exact(path);
  }
  return p;
}

}  // namespace

bool authorizationFor(const ConfigSet& config, const Service& svc, rbac_v3::RBAC* out) {
  std::vector<const AuthorizationPolicy*> selecting;
  for (const auto& policy : config.authorization_policies) {
    if (policy.meta.ns == svc.meta.ns && policy.service == svc.meta.name) {
      selecting.push_back(&policy);
    }
  }
  if (selecting.empty()) return false;
  std::sort(selecting.begin(), selecting.end(),
            [](const auto* a, const auto* b) { return a->meta.name < b->meta.name; });
  out->set_action(rbac_v3::RBAC::ALLOW);
  const std::string td = "spiffe://" + config.mesh.trust_domain + "/ns/";
  for (const auto* policy : selecting) {
    if (policy->invalid) continue;  // selects the Service, allows nothing
    for (size_t i = 0; i < policy->rules.size(); ++i) {
      const auto& rule = policy->rules[i];
      rbac_v3::Policy& p = (*out->mutable_policies())[policy->meta.ns + "/" + policy->meta.name +
                                                      "/rule-" + std::to_string(i)];
      for (const auto& id : rule.from_identities) addPrincipal(&p, id, false);
      for (const auto& [ns, sa] : rule.from_accounts) {
        addPrincipal(&p, td + ns + "/sa/" + sa, sa.empty());
      }
      if (rule.paths.empty() && rule.methods.empty()) {
        p.add_permissions()->set_any(true);
        continue;
      }
      auto* all = p.add_permissions()->mutable_and_rules();
      if (!rule.paths.empty()) {
        auto* paths = all->add_rules()->mutable_or_rules();
        for (const auto& path : rule.paths) *paths->add_rules() = pathPermission(path);
      }
      if (!rule.methods.empty()) {
        auto* methods = all->add_rules()->mutable_or_rules();
        for (const auto& method : rule.methods) {
          auto* header = methods->add_rules()->mutable_header();
          header->set_name(":method");
          header->set_exact_match(method);
        }
      }
    }
  }
  return true;
}

void addHttpRbac(
    const rbac_v3::RBAC& rules,
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager* hcm) {
  envoy::extensions::filters::http::rbac::v3::RBAC config;
  *config.mutable_rules() = rules;
  auto* filters = hcm->mutable_http_filters();
  auto* filter = filters->Add();
  filter->set_name("envoy.filters.http.rbac");
  packDeterministic(config, filter->mutable_typed_config());  // policies: a map
  // Move it in front of the router (the last filter).
  for (int i = filters->size() - 1; i > 0; --i) filters->SwapElements(i, i - 1);
}

void addNetworkRbac(const rbac_v3::RBAC& rules, const std::string& stat_prefix,
                    envoy::config::listener::v3::FilterChain* chain) {
  envoy::extensions::filters::network::rbac::v3::RBAC config;
  *config.mutable_rules() = rules;
  config.set_stat_prefix(stat_prefix);
  auto* filters = chain->mutable_filters();
  auto* filter = filters->Add();
  filter->set_name("envoy.filters.network.rbac");
  packDeterministic(config, filter->mutable_typed_config());  // policies: a map
  for (int i = filters->size() - 1; i > 0; --i) filters->SwapElements(i, i - 1);
}

}  // namespace weft::control
