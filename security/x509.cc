#include "security/x509.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>

namespace weft::security {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr readBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

// The subject alternative names of one type (GEN_URI, GEN_DNS): both are IA5 strings.
std::vector<std::string> sansOf(GENERAL_NAMES* names, int type) {
  std::vector<std::string> out;
  if (names == nullptr) return out;
  for (size_t i = 0; i < static_cast<size_t>(sk_GENERAL_NAME_num(names)); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != type) continue;
    const ASN1_STRING* s = type == GEN_URI ? name->d.uniformResourceIdentifier : name->d.dNSName;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

}  // namespace

std::string opensslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

std::vector<X509Ptr> parseCertificates(std::string_view pem, std::string* error) {
  std::vector<X509Ptr> out;
  BioPtr bio = readBio(pem);
  while (true) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    out.emplace_back(cert);
  }
  // The loop ends on "no start line" at the end of the input: only an error
  // when nothing was read or a certificate was cut short.
  unsigned long last = ERR_peek_last_error();
  bool clean_end = ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
  if (out.empty() || (last != 0 && !clean_end)) {
    *error =
        out.empty() ? "no PEM certificate found" : "malformed PEM certificate: " + opensslError();
    ERR_clear_error();
    out.clear();
    return out;
  }
  ERR_clear_error();
  return out;
}

EvpPkeyPtr parsePrivateKey(std::string_view pem, std::string* error) {
  BioPtr bio = readBio(pem);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) *error = "no PEM private key found: " + opensslError();
  ERR_clear_error();
  return key;
}

std::string certificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bioContents(bio.get());
}

std::string privateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return bioContents(bio.get());
}

std::vector<std::string> uriSans(X509* cert) {
  return sansOf(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)),
      GEN_URI);
}

std::vector<std::string> dnsSans(X509* cert) {
  return sansOf(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)),
      GEN_DNS);
}

int64_t secondsUntilExpiry(X509* cert) {
  int days = 0, seconds = 0;
  if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)) != 1) return 0;
  return static_cast<int64_t>(days) * 86400 + seconds;
}

int64_t notAfterUnix(X509* cert) {
  return static_cast<int64_t>(std::time(nullptr)) + secondsUntilExpiry(cert);
}

std::string sha256Hex(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

EvpPkeyPtr generateP256Key() {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr);
  EVP_PKEY* key = nullptr;
  if (ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1 &&
      EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) == 1) {
    EVP_PKEY_keygen(ctx, &key);
  }
  EVP_PKEY_CTX_free(ctx);
  return EvpPkeyPtr(key);
}

std::string makeCsrPem(EVP_PKEY* key, std::string_view uri, std::string* error) {
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  X509_REQ_set_pubkey(req.get(), key);
  GENERAL_NAMES* names = GENERAL_NAMES_new();
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
  ASN1_STRING_set(ia5, uri.data(), static_cast<int>(uri.size()));
  GENERAL_NAME_set0_value(name, GEN_URI, ia5);
  sk_GENERAL_NAME_push(names, name);
  X509_EXTENSION* ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, names);
  GENERAL_NAMES_free(names);
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(exts, ext);
  bool ok = X509_REQ_add_extensions(req.get(), exts) == 1;
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  ok = ok && X509_REQ_sign(req.get(), key, EVP_sha256()) > 0;
  if (!ok) {
    *error = "cannot build the CSR: " + opensslError();
    return "";
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  return bioContents(bio.get());
}

X509ReqPtr parseCsr(std::string_view pem, std::string* error) {
  BioPtr bio = readBio(pem);
  X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) {
    *error = "not a PEM certificate request";
    ERR_clear_error();
    return nullptr;
  }
  EvpPkeyPtr key(X509_REQ_get_pubkey(req.get()));
  if (!key) {
    *error = "certificate request without a readable public key";
    ERR_clear_error();
    return nullptr;
  }
  int type = EVP_PKEY_id(key.get());
  if (!(type == EVP_PKEY_EC || (type == EVP_PKEY_RSA && EVP_PKEY_bits(key.get()) >= 2048))) {
    *error = "certificate request key must be EC or RSA of at least 2048 bits";
    return nullptr;
  }
  if (X509_REQ_verify(req.get(), key.get()) != 1) {
    *error = "certificate request signature does not verify";
    ERR_clear_error();
    return nullptr;
  }
  return req;
}

std::vector<std::string> csrUriSans(X509_REQ* req) {
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  if (exts == nullptr) return {};
  auto* names =
      static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  return sansOf(names, GEN_URI);
}

}  // namespace weft::security
