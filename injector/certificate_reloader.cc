#include "injector/certificate_reloader.h"

#include "common/base/file.h"
#include "common/base/logging.h"

namespace weft::injector {

CertificateReloader::CertificateReloader(event::Dispatcher& dispatcher, std::string cert_path,
                                         std::string key_path, uint64_t poll_ms,
                                         std::function<void()> on_reload)
    : cert_path_(std::move(cert_path)),
      key_path_(std::move(key_path)),
      poll_ms_(poll_ms),
      on_reload_(std::move(on_reload)),
      timer_(dispatcher, [this] { poll(); }) {}

bool CertificateReloader::load(std::string* error) {
  std::string cert, key;
  if (!common::readFile(cert_path_, &cert)) {
    *error = "cannot read the certificate file " + cert_path_;
    return false;
  }
  if (!common::readFile(key_path_, &key)) {
    *error = "cannot read the key file " + key_path_;
    return false;
  }
  if (cert == cert_pem_ && key == key_pem_ && context_) return true;
  tls::TlsContextConfig config;
  config.server = true;
  config.certificate_chain_pem = cert;
  config.private_key_pem = key;
  // kube-apiserver speaks HTTP/1.1 to webhooks.
  config.alpn = {"http/1.1"};
  std::string context_error;
  auto context = tls::TlsContext::create(config, &context_error);
  if (!context) {
    *error = cert_path_ + " / " + key_path_ + ": " + context_error;
    return false;
  }
  bool reload = context_ != nullptr;
  cert_pem_ = std::move(cert);
  key_pem_ = std::move(key);
  context_ = std::move(context);
  if (reload) {
    LOG_INFO("weft-injector: serving certificate reloaded from %s", cert_path_.c_str());
    if (on_reload_) on_reload_();
  }
  return true;
}

void CertificateReloader::start() { timer_.enableMs(poll_ms_); }

void CertificateReloader::poll() {
  std::string error;
  // A Secret update swaps both files at once (an atomic symlink flip), but
  // a hand-edited pair may be caught half-written: retry on the next tick.
  if (!load(&error)) LOG_WARN("weft-injector: keeping the current certificate: %s", error.c_str());
  timer_.enableMs(poll_ms_);
}

}  // namespace weft::injector
