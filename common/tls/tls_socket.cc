#include "common/tls/tls_socket.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "common/base/logging.h"
#include "security/x509.h"

namespace weft::tls {

namespace {
constexpr size_t kReadChunk = 16 * 1024;  // one TLS record
thread_local char plaintext_buffer[kReadChunk];
}  // namespace

TlsSocket::TlsSocket(TlsContextPtr context, const HandshakeObserver* observer)
    : context_(std::move(context)), observer_(observer), ssl_(context_->newSsl()) {
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  // An empty read BIO means "wait for more", not end of stream.
  BIO_set_mem_eof_return(rbio_, -1);
  SSL_set_bio(ssl_, rbio_, wbio_);
  info_.local_identity = context_->localIdentity();
}

TlsSocket::~TlsSocket() { SSL_free(ssl_); }

void TlsSocket::onConnected() {
  if (!context_->server()) doHandshake();
}

void TlsSocket::onRawData(std::string_view data) {
  if (failed_) return;
  BIO_write(rbio_, data.data(), static_cast<int>(data.size()));
  if (!handshake_complete_) {
    doHandshake();
    if (!handshake_complete_) return;
  }
  readPlaintext();
}

void TlsSocket::doHandshake() {
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    handshake_complete_ = true;
    flushWire();
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl_, &alpn, &alpn_len);
    info_.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
    security::X509Ptr peer(SSL_get_peer_certificate(ssl_));
    if (peer) {
      info_.peer_certificate = true;
      auto uris = security::uriSans(peer.get());
      if (!uris.empty()) info_.peer_identity = uris[0];
      info_.peer_cert_hash = security::sha256Hex(peer.get());
    }
    if (observer_ != nullptr) observer_->onHandshakeComplete(context_->server());
    if (!pending_.empty()) {
      std::string pending;
      pending.swap(pending_);
      writeEncrypted(pending);
    }
    if (callbacks_ != nullptr) callbacks_->onHandshakeComplete();
    return;
  }
  int err = SSL_get_error(ssl_, rc);
  flushWire();  // our next flight, or the alert that tells the peer why
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;
  fail(classifyFailure());
  if (callbacks_ != nullptr) callbacks_->onHandshakeFailed();
}

std::string TlsSocket::classifyFailure() {
  unsigned long code = ERR_peek_error();
  char buf[256] = "";
  if (code != 0) ERR_error_string_n(code, buf, sizeof(buf));
  ERR_clear_error();
  failure_detail_ = buf;
  long verify = SSL_get_verify_result(ssl_);
  switch (verify) {
    case X509_V_OK:
    // No certificate was verified at all (BoringSSL's answer before the
    // peer's certificate arrived; OpenSSL says X509_V_OK): the failure is
    // elsewhere, in the error queue.
    case X509_V_ERR_INVALID_CALL:
      break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "certificate_expired";
    case X509_V_ERR_APPLICATION_VERIFICATION:
      return "identity_mismatch";
    default:
      failure_detail_ += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
      return "unknown_ca";
  }
  int reason = ERR_GET_REASON(code);
  if (ERR_GET_LIB(code) == ERR_LIB_SSL) {
    if (reason == SSL_R_HTTP_REQUEST || reason == SSL_R_WRONG_VERSION_NUMBER) return "not_tls";
    if (context_->server() && context_->config().require_client_certificate) {
      security::X509Ptr peer(SSL_get_peer_certificate(ssl_));
      if (!peer && reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
        return "no_client_certificate";
      }
    }
    // An alert from the peer: it refused us (our certificate, most often).
    if (reason >= SSL_AD_REASON_OFFSET) return "peer_alert";
  }
  return "handshake_error";
}

void TlsSocket::fail(std::string reason) {
  failed_ = true;
  failure_reason_ = std::move(reason);
  if (observer_ != nullptr) {
    observer_->onHandshakeFailed(context_->server(), failure_reason_);
  }
  LOG_DEBUG("TLS handshake failed (%s): %s", failure_reason_.c_str(), failure_detail_.c_str());
}

void TlsSocket::readPlaintext() {
  while (!failed_) {
    int n = SSL_read(ssl_, plaintext_buffer, sizeof(plaintext_buffer));
    if (n > 0) {
      if (callbacks_ == nullptr || !callbacks_->deliver(std::string_view(plaintext_buffer, n))) {
        return;
      }
      continue;
    }
    int err = SSL_get_error(ssl_, n);
    flushWire();  // post-handshake messages (tickets, key updates) may need answers
    if (err == SSL_ERROR_WANT_READ) return;
    if (err != SSL_ERROR_ZERO_RETURN) {
      // After the handshake the peer may still refuse us (TLS 1.3: the
      // server checks a client certificate after the client is done).
      failed_ = true;
      failure_reason_ = classifyFailure();
      LOG_DEBUG("TLS session ended (%s): %s", failure_reason_.c_str(), failure_detail_.c_str());
    }
    if (callbacks_ != nullptr) callbacks_->onTransportClosed();
    return;
  }
}

void TlsSocket::write(std::string_view plaintext) {
  if (failed_ || shutdown_sent_) return;
  if (!handshake_complete_) {
    pending_.append(plaintext);
    return;
  }
  writeEncrypted(plaintext);
}

void TlsSocket::writeEncrypted(std::string_view plaintext) {
  // Memory BIOs grow as needed: SSL_write takes everything at once.
  while (!plaintext.empty()) {
    int n = SSL_write(ssl_, plaintext.data(), static_cast<int>(plaintext.size()));
    if (n <= 0) {
      ERR_clear_error();
      break;
    }
    plaintext.remove_prefix(static_cast<size_t>(n));
  }
  flushWire();
}

void TlsSocket::shutdown() {
  if (shutdown_sent_ || failed_ || !handshake_complete_) return;
  shutdown_sent_ = true;
  SSL_shutdown(ssl_);
  ERR_clear_error();
  flushWire();
}

void TlsSocket::flushWire() {
  char* data = nullptr;
  long len = BIO_get_mem_data(wbio_, &data);
  if (len <= 0) return;
  std::string_view bytes(data, static_cast<size_t>(len));
  if (callbacks_ != nullptr) callbacks_->writeRaw(bytes);
  (void)BIO_reset(wbio_);
}

}  // namespace weft::tls
