#include "common/tls/tls_context.h"

#include <cctype>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "security/x509.h"

namespace weft::tls {

namespace {

// Where a TlsContext hangs off its SSL_CTX, for the verify callback.
int contextIndex() {
  static int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

namespace {
std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}
}  // namespace

bool SanMatcher::matches(const std::string& san) const {
  if (type == Type::kUri) {
    return kind == Kind::kExact ? san == value : san.compare(0, value.size(), value) == 0;
  }
  std::string name = lower(san), wanted = lower(value);
  if (kind == Kind::kPrefix) return name.compare(0, wanted.size(), wanted) == 0;
  if (name == wanted) return true;
  // "*.example.com" stands for one label in front of ".example.com".
  if (name.size() < 3 || name.compare(0, 2, "*.") != 0) return false;
  size_t dot = wanted.find('.');
  return dot != std::string::npos && dot > 0 &&
         wanted.compare(dot, std::string::npos, name, 1) == 0;
}

std::shared_ptr<const TlsContext> TlsContext::create(TlsContextConfig config, std::string* error) {
  std::shared_ptr<TlsContext> context(new TlsContext(std::move(config)));
  if (!context->init(error)) return nullptr;
  return context;
}

TlsContext::TlsContext(TlsContextConfig config) : config_(std::move(config)) {}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

bool TlsContext::init(std::string* error) {
  ctx_ = SSL_CTX_new(TLS_method());
  if (ctx_ == nullptr) {
    *error = "cannot create a TLS context: " + security::opensslError();
    return false;
  }
  SSL_CTX_set_ex_data(ctx_, contextIndex(), this);
  SSL_CTX_set_min_proto_version(ctx_, static_cast<uint16_t>(config_.min_version));
  SSL_CTX_set_max_proto_version(ctx_, static_cast<uint16_t>(config_.max_version));
  SSL_CTX_set_mode(ctx_, SSL_MODE_RELEASE_BUFFERS);
  if (config_.server) {
    // Sidecar clients do not resume sessions: tickets (two per TLS 1.3
    // handshake, each an encrypted copy of the session and the peer's
    // certificate) and the session cache would be work for nothing.
    SSL_CTX_set_num_tickets(ctx_, 0);
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
  }

  if (!config_.certificate_chain_pem.empty() || !config_.private_key_pem.empty()) {
    std::string why;
    auto chain = security::parseCertificates(config_.certificate_chain_pem, &why);
    if (chain.empty()) {
      *error = "certificate_chain: " + why;
      return false;
    }
    auto key = security::parsePrivateKey(config_.private_key_pem, &why);
    if (!key) {
      *error = "private_key: " + why;
      return false;
    }
    if (SSL_CTX_use_certificate(ctx_, chain[0].get()) != 1) {
      *error = "certificate_chain: " + security::opensslError();
      return false;
    }
    for (size_t i = 1; i < chain.size(); ++i) SSL_CTX_add1_chain_cert(ctx_, chain[i].get());
    if (SSL_CTX_use_PrivateKey(ctx_, key.get()) != 1 || SSL_CTX_check_private_key(ctx_) != 1) {
      *error = "private_key: does not match the certificate (" + security::opensslError() + ")";
      return false;
    }
    auto uris = security::uriSans(chain[0].get());
    if (!uris.empty()) local_identity_ = uris[0];
    not_after_ = security::notAfterUnix(chain[0].get());
  } else if (config_.server) {
    *error = "a server needs a certificate and a private key";
    return false;
  }

  if (!config_.trusted_ca_pem.empty()) {
    std::string why;
    auto roots = security::parseCertificates(config_.trusted_ca_pem, &why);
    if (roots.empty()) {
      *error = "trusted_ca: " + why;
      return false;
    }
    X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
    for (auto& root : roots) X509_STORE_add_cert(store, root.get());
    int mode = SSL_VERIFY_PEER;
    if (config_.server && config_.require_client_certificate) {
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(ctx_, mode, &TlsContext::verifyCallback);
  } else if (config_.server && config_.require_client_certificate) {
    *error = "require_client_certificate needs a validation context with trusted_ca";
    return false;
  } else if (!config_.match_sans.empty()) {
    *error = "match_typed_subject_alt_names needs a validation context with trusted_ca";
    return false;
  }

  for (const auto& protocol : config_.alpn) {
    if (protocol.empty() || protocol.size() > 255) {
      *error = "alpn_protocols: each must be 1..255 bytes";
      return false;
    }
    alpn_wire_ += static_cast<char>(protocol.size());
    alpn_wire_ += protocol;
  }
  if (!alpn_wire_.empty()) {
    if (config_.server) {
      SSL_CTX_set_alpn_select_cb(ctx_, &TlsContext::selectAlpn, this);
    } else if (SSL_CTX_set_alpn_protos(ctx_,
                                       reinterpret_cast<const unsigned char*>(alpn_wire_.data()),
                                       static_cast<unsigned>(alpn_wire_.size())) != 0) {
      *error = "alpn_protocols: " + security::opensslError();
      return false;
    }
  }
  return true;
}

SSL* TlsContext::newSsl() const {
  SSL* ssl = SSL_new(ctx_);
  if (config_.server) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
    if (!config_.sni.empty()) SSL_set_tlsext_host_name(ssl, config_.sni.c_str());
  }
  return ssl;
}

// Chain verification is OpenSSL's; on top, the leaf must carry one of the
// SANs the config expects (the peer's SPIFFE identity, an external host's name).
int TlsContext::verifyCallback(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok != 1 || X509_STORE_CTX_get_error_depth(store) != 0) return preverify_ok;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self =
      static_cast<const TlsContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), contextIndex()));
  if (self == nullptr || self->config_.match_sans.empty()) return 1;
  X509* leaf = X509_STORE_CTX_get_current_cert(store);
  std::vector<std::string> names[2] = {security::uriSans(leaf), security::dnsSans(leaf)};
  for (const auto& matcher : self->config_.match_sans) {
    for (const auto& san : names[matcher.type == SanMatcher::Type::kUri ? 0 : 1]) {
      if (matcher.matches(san)) return 1;
    }
  }
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

// The server's preference order wins; no overlap: no ALPN (the client then
// speaks its default, as with a server that does not do ALPN).
int TlsContext::selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen,
                           const unsigned char* in, unsigned int inlen, void* arg) {
  auto* self = static_cast<TlsContext*>(arg);
  for (const auto& ours : self->config_.alpn) {
    for (unsigned int i = 0; i < inlen;) {
      unsigned int len = in[i];
      if (i + 1 + len > inlen) break;
      if (len == ours.size() &&
          ours.compare(0, len, reinterpret_cast<const char*>(in + i + 1), len) == 0) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(len);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + len;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace weft::tls
