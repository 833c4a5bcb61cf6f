#pragma once

// The mesh CA's gRPC service: authenticates the caller, checks that the CSR
// asks for exactly the caller's SPIFFE identity, and signs it. Handlers run
// on gRPC's threads (a TokenReview may block); what they read is swapped
// whole under a mutex.

#include <memory>
#include <mutex>
#include <string>

#include "controlplane/ca/authenticator.h"
#include "controlplane/metrics/metrics.h"
#include "security/certificate_authority.h"
#include "weft/security/v1/certificate.grpc.pb.h"

namespace weft::control::ca {

struct IssuancePolicy {
  std::string trust_domain = "cluster.local";
  int64_t default_lifetime_s = 24 * 3600;
  int64_t min_lifetime_s = 5;  // short lifetimes are allowed: rotation tests
  int64_t max_lifetime_s = 30LL * 24 * 3600;
};

class CertificateService final : public weft::security::v1::CertificateService::Service {
 public:
  CertificateService(std::shared_ptr<const security::CertificateAuthority> authority,
                     std::string trust_bundle_pem, Authenticator& authenticator,
                     ControlMetrics& metrics);

  grpc::Status CreateCertificate(grpc::ServerContext* context,
                                 const weft::security::v1::CreateCertificateRequest* request,
                                 weft::security::v1::CreateCertificateResponse* response) override;

  void setPolicy(const IssuancePolicy& policy);
  void setTrustBundle(std::string pem);

 private:
  grpc::Status refuse(grpc::StatusCode code, const std::string& reason, const std::string& message);

  std::shared_ptr<const security::CertificateAuthority> authority_;
  Authenticator& authenticator_;
  ControlMetrics& metrics_;
  std::mutex mu_;
  IssuancePolicy policy_;
  std::string trust_bundle_pem_;
};

}  // namespace weft::control::ca
