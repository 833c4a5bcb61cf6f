#include "controlplane/ca/certificate_service.h"

#include "common/base/logging.h"
#include "security/spiffe_id.h"

namespace weft::control::ca {

namespace {

std::string bearerToken(const grpc::ServerContext& context) {
  auto it = context.client_metadata().find("authorization");
  if (it == context.client_metadata().end()) return "";
  std::string value(it->second.data(), it->second.size());
  const std::string prefix = "Bearer ";
  return value.compare(0, prefix.size(), prefix) == 0 ? value.substr(prefix.size()) : "";
}

}  // namespace

CertificateService::CertificateService(
    std::shared_ptr<const security::CertificateAuthority> authority, std::string trust_bundle_pem,
    Authenticator& authenticator, ControlMetrics& metrics)
    : authority_(std::move(authority)),
      authenticator_(authenticator),
      metrics_(metrics),
      trust_bundle_pem_(std::move(trust_bundle_pem)) {}

void CertificateService::setPolicy(const IssuancePolicy& policy) {
  std::lock_guard<std::mutex> lock(mu_);
  policy_ = policy;
}

void CertificateService::setTrustBundle(std::string pem) {
  std::lock_guard<std::mutex> lock(mu_);
  trust_bundle_pem_ = std::move(pem);
}

grpc::Status CertificateService::refuse(grpc::StatusCode code, const std::string& reason,
                                        const std::string& message) {
  metrics_.certificateRefused(reason);
  LOG_WARN("ca: refused (%s): %s", reason.c_str(), message.c_str());
  return grpc::Status(code, message);
}

grpc::Status CertificateService::CreateCertificate(
    grpc::ServerContext* context, const weft::security::v1::CreateCertificateRequest* request,
    weft::security::v1::CreateCertificateResponse* response) {
  std::string token = bearerToken(*context);
  if (token.empty()) {
    return refuse(grpc::StatusCode::UNAUTHENTICATED, "unauthenticated",
                  "no 'authorization: Bearer <token>' metadata");
  }
  std::string error;
  std::optional<Caller> caller = authenticator_.authenticate(token, &error);
  if (!caller) return refuse(grpc::StatusCode::UNAUTHENTICATED, "unauthenticated", error);

  IssuancePolicy policy;
  std::string bundle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    policy = policy_;
    bundle = trust_bundle_pem_;
  }
  security::X509ReqPtr csr = security::parseCsr(request->csr(), &error);
  if (!csr) return refuse(grpc::StatusCode::INVALID_ARGUMENT, "invalid_request", "csr: " + error);
  std::string proven =
      security::SpiffeId{policy.trust_domain, caller->ns, caller->service_account}.uri();
  std::vector<std::string> asked = security::csrUriSans(csr.get());
  if (asked.size() != 1 || asked[0] != proven) {
    std::string what = asked.empty() ? "no URI SAN" : asked[0];
    if (asked.size() > 1) what += " and " + std::to_string(asked.size() - 1) + " more";
    return refuse(grpc::StatusCode::PERMISSION_DENIED, "permission_denied",
                  "the credential proves " + proven + " but the CSR asks for " + what);
  }
  int64_t lifetime =
      request->validity_duration() > 0 ? request->validity_duration() : policy.default_lifetime_s;
  if (lifetime < policy.min_lifetime_s || lifetime > policy.max_lifetime_s) {
    return refuse(grpc::StatusCode::INVALID_ARGUMENT, "invalid_request",
                  "validity_duration " + std::to_string(lifetime) + " s is outside " +
                      std::to_string(policy.min_lifetime_s) + ".." +
                      std::to_string(policy.max_lifetime_s));
  }
  security::EvpPkeyPtr key(X509_REQ_get_pubkey(csr.get()));
  security::IssueOptions options;
  options.uris = {proven};
  options.lifetime_s = lifetime;
  // Backdate by at most a tenth of a short lifetime: a 10 s certificate
  // must not be born already half expired.
  options.not_before_offset_s = -std::min<int64_t>(300, lifetime / 10);
  security::X509Ptr cert = authority_->issue(key.get(), options, &error);
  if (!cert) return refuse(grpc::StatusCode::INTERNAL, "invalid_request", error);
  response->add_cert_chain(security::certificateToPem(cert.get()));
  std::string why;
  for (const auto& c : security::parseCertificates(authority_->chainPem(), &why)) {
    response->add_cert_chain(security::certificateToPem(c.get()));
  }
  for (const auto& root : security::parseCertificates(bundle, &why)) {
    response->add_trust_bundle(security::certificateToPem(root.get()));
  }
  metrics_.certificateIssued();
  LOG_INFO("ca: issued %s for %lld s", proven.c_str(), static_cast<long long>(lifetime));
  return grpc::Status::OK;
}

}  // namespace weft::control::ca
