#pragma once

// Issues X.509 certificates: a self-signed root, and leaf certificates for a
// public key with the names given (SPIFFE URI, DNS, IP). weft-control's mesh
// CA signs workload CSRs with it; tools/certgen makes test and demo PKIs.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "security/x509.h"

namespace weft::security {

struct IssueOptions {
  std::vector<std::string> uris;
  std::vector<std::string> dns_names;
  std::vector<std::string> ips;
  // Validity relative to now. Backdated a little by default: a peer whose
  // clock runs behind must not see a fresh certificate as "not yet valid".
  int64_t not_before_offset_s = -300;
  int64_t lifetime_s = 86400;
  bool is_ca = false;
  std::string common_name;  // roots only; workload certificates carry no subject
};

class CertificateAuthority {
 public:
  // A signing CA from PEM (its certificate first; `chain_pem` adds the
  // certificates above it, if it is an intermediate).
  static std::unique_ptr<CertificateAuthority> load(const std::string& cert_pem,
                                                    const std::string& key_pem,
                                                    const std::string& chain_pem,
                                                    std::string* error);
  // A new self-signed root with a new P-256 key.
  static std::unique_ptr<CertificateAuthority> generateRoot(const std::string& common_name,
                                                            int64_t lifetime_s, std::string* error);

  X509Ptr issue(EVP_PKEY* subject_key, const IssueOptions& options, std::string* error) const;

  X509* certificate() const { return cert_.get(); }
  std::string certificatePem() const;
  std::string keyPem() const;
  // This CA's certificate and those above it: what a leaf's chain ends with.
  std::string chainPem() const;
  // The root(s) to trust.
  std::string rootPem() const;

 private:
  X509Ptr cert_;
  EvpPkeyPtr key_;
  std::vector<X509Ptr> chain_;  // above cert_, ending with the root
};

}  // namespace weft::security
