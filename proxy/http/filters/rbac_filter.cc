#include "proxy/http/filters/rbac_filter.h"

#include <string>

#include "common/base/logging.h"

namespace weft::http {

bool rbacAllows(const rbac::RbacEngine& engine, const HeaderMap& headers,
                const network::TransportInfo* tls, const stats::ListenerStats& stats) {
  rbac::RequestContext request;
  request.headers = &headers;
  if (tls != nullptr && tls->peer_certificate) {
    request.authenticated = true;
    request.peer_identity = tls->peer_identity;
  }
  std::string policy;
  if (engine.allowed(request, &policy)) {
    stats::inc(stats.rbac_allowed);
    return true;
  }
  stats::inc(stats.rbac_denied);
  LOG_DEBUG("rbac: denied %s %.*s from '%s' (policy '%s')", std::string(headers.method()).c_str(),
            static_cast<int>(headers.path().size()), headers.path().data(),
            tls != nullptr ? tls->peer_identity.c_str() : "", policy.c_str());
  return false;
}

}  // namespace weft::http
