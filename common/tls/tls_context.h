#pragma once

// An immutable TLS configuration (one SSL_CTX) for one side of one listener
// filter chain or cluster. Built at config time, shared by every worker and
// every connection it starts; a certificate or trust-bundle change builds a
// new one, and connections already established keep theirs.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct x509_store_ctx_st X509_STORE_CTX;

namespace weft::tls {

// A subject alternative name the peer must present (any one matcher
// matching): a URI (a mesh peer's SPIFFE identity) or a DNS name (an
// external host the proxy originates TLS to).
struct SanMatcher {
  enum class Kind { kExact, kPrefix };
  enum class Type { kUri, kDns };
  Kind kind = Kind::kExact;
  std::string value;
  Type type = Type::kUri;
  // `san`: one of the certificate's names of this matcher's type. A DNS
  // name compares without case, and a certificate's "*.example.com" covers
  // exactly one label ("api.example.com", not "a.b.example.com"), as RFC
  // 6125 and Envoy's matcher have it.
  bool matches(const std::string& san) const;
};

struct TlsContextConfig {
  bool server = false;
  std::string certificate_chain_pem;  // leaf first; optional for a client
  std::string private_key_pem;
  // Empty: the peer is not verified (a client then only encrypts).
  std::string trusted_ca_pem;
  std::vector<SanMatcher> match_sans;
  bool require_client_certificate = false;  // server
  std::vector<std::string> alpn;            // in preference order
  std::string sni;                          // client
  int min_version = 0x0303;                 // TLS 1.2
  int max_version = 0x0304;                 // TLS 1.3
};

class TlsContext {
 public:
  // nullptr with `error` naming what is wrong (unreadable PEM, key not
  // matching the certificate, ...).
  static std::shared_ptr<const TlsContext> create(TlsContextConfig config, std::string* error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A new session for one connection (the caller owns it).
  SSL* newSsl() const;
  const TlsContextConfig& config() const { return config_; }
  bool server() const { return config_.server; }
  const std::string& localIdentity() const { return local_identity_; }
  // Our certificate's notAfter, Unix seconds (0 without a certificate).
  int64_t certificateNotAfter() const { return not_after_; }

 private:
  explicit TlsContext(TlsContextConfig config);
  bool init(std::string* error);
  static int verifyCallback(int preverify_ok, X509_STORE_CTX* store);
  static int selectAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                        const unsigned char* in, unsigned int inlen, void* arg);

  TlsContextConfig config_;
  SSL_CTX* ctx_ = nullptr;
  std::string local_identity_;
  int64_t not_after_ = 0;
  std::string alpn_wire_;
};

using TlsContextPtr = std::shared_ptr<const TlsContext>;

}  // namespace weft::tls
