#pragma once

// X.509 helpers over the OpenSSL API subset BoringSSL also implements: PEM
// in and out, SAN extraction, P-256 keys and CSRs carrying a SPIFFE URI.
// Only TLS and CA code includes this (it pulls in OpenSSL's headers).

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace weft::security {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct EvpPkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509ReqFree {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using X509ReqPtr = std::unique_ptr<X509_REQ, X509ReqFree>;

// Every certificate in `pem`, in order (leaf first for a chain); empty with
// `error` set when there is none or one is malformed.
std::vector<X509Ptr> parseCertificates(std::string_view pem, std::string* error);
EvpPkeyPtr parsePrivateKey(std::string_view pem, std::string* error);
std::string certificateToPem(X509* cert);
std::string privateKeyToPem(EVP_PKEY* key);

// The oldest queued OpenSSL error as text (the queue is cleared).
std::string opensslError();

std::vector<std::string> uriSans(X509* cert);
// The certificate's DNS names (dNSName SANs), as written ("*.example.com" too).
std::vector<std::string> dnsSans(X509* cert);
// Seconds from now until notAfter (negative once expired).
int64_t secondsUntilExpiry(X509* cert);
// notAfter as Unix seconds.
int64_t notAfterUnix(X509* cert);
// Lowercase hex SHA-256 of the DER encoding (XFCC's Hash=).
std::string sha256Hex(X509* cert);

EvpPkeyPtr generateP256Key();
// A CSR signed by `key` whose only subject alternative name is `uri`.
std::string makeCsrPem(EVP_PKEY* key, std::string_view uri, std::string* error);
// Parses a CSR and checks its self-signature; nullptr with `error` otherwise.
X509ReqPtr parseCsr(std::string_view pem, std::string* error);
std::vector<std::string> csrUriSans(X509_REQ* req);

}  // namespace weft::security
