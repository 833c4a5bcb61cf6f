#include "security/certificate_authority.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace weft::security {

namespace {

bool addGeneralName(GENERAL_NAMES* names, int type, const std::string& value) {
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (type == GEN_IPADD) {
    ASN1_OCTET_STRING* ip = a2i_IPADDRESS(value.c_str());
    if (ip == nullptr) {
      GENERAL_NAME_free(name);
      return false;
    }
    GENERAL_NAME_set0_value(name, GEN_IPADD, ip);
  } else {
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    ASN1_STRING_set(s, value.data(), static_cast<int>(value.size()));
    GENERAL_NAME_set0_value(name, type, s);
  }
  sk_GENERAL_NAME_push(names, name);
  return true;
}

bool addConfExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, ctx, nid, value);
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool setRandomSerial(X509* cert) {
  BIGNUM* bn = BN_new();
  bool ok = BN_rand(bn, 127, -1, 0) == 1;  // positive, 16 bytes at most
  ASN1_INTEGER* serial = ok ? BN_to_ASN1_INTEGER(bn, nullptr) : nullptr;
  BN_free(bn);
  if (serial == nullptr) return false;
  ok = X509_set_serialNumber(cert, serial) == 1;
  ASN1_INTEGER_free(serial);
  return ok;
}

}  // namespace

std::unique_ptr<CertificateAuthority> CertificateAuthority::load(const std::string& cert_pem,
                                                                 const std::string& key_pem,
                                                                 const std::string& chain_pem,
                                                                 std::string* error) {
  auto ca = std::unique_ptr<CertificateAuthority>(new CertificateAuthority);
  std::string why;
  auto certs = parseCertificates(cert_pem, &why);
  if (certs.empty()) {
    *error = "CA certificate: " + why;
    return nullptr;
  }
  ca->key_ = parsePrivateKey(key_pem, &why);
  if (!ca->key_) {
    *error = "CA key: " + why;
    return nullptr;
  }
  if (X509_check_private_key(certs[0].get(), ca->key_.get()) != 1) {
    ERR_clear_error();
    *error = "CA key does not match the CA certificate";
    return nullptr;
  }
  if (X509_check_ca(certs[0].get()) == 0) {
    *error = "the CA certificate is not a CA (basicConstraints CA:TRUE missing)";
    return nullptr;
  }
  ca->cert_ = std::move(certs[0]);
  for (size_t i = 1; i < certs.size(); ++i) ca->chain_.push_back(std::move(certs[i]));
  if (!chain_pem.empty()) {
    auto chain = parseCertificates(chain_pem, &why);
    if (chain.empty()) {
      *error = "CA chain: " + why;
      return nullptr;
    }
    for (auto& c : chain) ca->chain_.push_back(std::move(c));
  }
  return ca;
}

std::unique_ptr<CertificateAuthority> CertificateAuthority::generateRoot(
    const std::string& common_name, int64_t lifetime_s, std::string* error) {
  auto ca = std::unique_ptr<CertificateAuthority>(new CertificateAuthority);
  ca->key_ = generateP256Key();
  if (!ca->key_) {
    *error = "cannot generate a P-256 key";
    return nullptr;
  }
  IssueOptions options;
  options.is_ca = true;
  options.common_name = common_name;
  options.lifetime_s = lifetime_s;
  // Self-signed: the CA issues its own certificate.
  ca->cert_ = ca->issue(ca->key_.get(), options, error);
  if (!ca->cert_) return nullptr;
  return ca;
}

X509Ptr CertificateAuthority::issue(EVP_PKEY* subject_key, const IssueOptions& options,
                                    std::string* error) const {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);  // v3
  if (!setRandomSerial(cert.get())) {
    *error = "cannot make a serial number";
    return nullptr;
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (!options.common_name.empty()) {
    X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("weft"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(options.common_name.c_str()),
                               -1, -1, 0);
  }
  // Self-signed when there is no CA certificate yet (generateRoot).
  X509* issuer = cert_ ? cert_.get() : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(options.not_before_offset_s));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(options.lifetime_s));
  X509_set_pubkey(cert.get(), subject_key);

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert.get(), nullptr, nullptr, 0);
  bool ok = true;
  if (options.is_ca) {
    ok &= addConfExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
    ok &= addConfExtension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    ok &= addConfExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
    ok &= addConfExtension(cert.get(), &ctx, NID_key_usage,
                           "critical,digitalSignature,keyEncipherment");
    ok &= addConfExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  ok &= addConfExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  if (cert_) ok &= addConfExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid");
  if (!ok) {
    *error = "cannot add extensions";
    ERR_clear_error();
    return nullptr;
  }
  if (!options.uris.empty() || !options.dns_names.empty() || !options.ips.empty()) {
    // Built name by name (not from a config string, where a ',' in a URI
    // would smuggle in another name).
    GENERAL_NAMES* names = GENERAL_NAMES_new();
    for (const auto& uri : options.uris) addGeneralName(names, GEN_URI, uri);
    for (const auto& dns : options.dns_names) addGeneralName(names, GEN_DNS, dns);
    for (const auto& ip : options.ips) {
      if (!addGeneralName(names, GEN_IPADD, ip)) {
        GENERAL_NAMES_free(names);
        *error = "not an IP address: " + ip;
        return nullptr;
      }
    }
    // Critical: a workload certificate has an empty subject (RFC 5280 4.2.1.6).
    X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names, options.common_name.empty() ? 1 : 0,
                      X509V3_ADD_DEFAULT);
    GENERAL_NAMES_free(names);
  }
  EVP_PKEY* signing_key = cert_ ? key_.get() : subject_key;
  if (X509_sign(cert.get(), signing_key, EVP_sha256()) == 0) {
    *error = "signing failed";
    ERR_clear_error();
    return nullptr;
  }
  return cert;
}

std::string CertificateAuthority::certificatePem() const { return certificateToPem(cert_.get()); }

std::string CertificateAuthority::keyPem() const { return privateKeyToPem(key_.get()); }

std::string CertificateAuthority::chainPem() const {
  std::string out = certificateToPem(cert_.get());
  for (const auto& c : chain_) out += certificateToPem(c.get());
  return out;
}

std::string CertificateAuthority::rootPem() const {
  return certificateToPem(chain_.empty() ? cert_.get() : chain_.back().get());
}

}  // namespace weft::security
