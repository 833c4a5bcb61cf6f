#pragma once

// The webhook's serving certificate, read from files and re-read when they
// change on disk (a renewed Secret lands in the mounted volume): the next
// connection gets the new certificate, open ones keep theirs. A broken
// update (unreadable, key not matching) keeps the last good one, logged.

#include <functional>
#include <memory>
#include <string>

#include "common/event/dispatcher.h"
#include "common/tls/tls_context.h"

namespace weft::injector {

class CertificateReloader {
 public:
  CertificateReloader(event::Dispatcher& dispatcher, std::string cert_path, std::string key_path,
                      uint64_t poll_ms, std::function<void()> on_reload);

  // Loads the files once; false with `error` naming the problem.
  bool load(std::string* error);
  void start();
  tls::TlsContextPtr current() const { return context_; }

 private:
  void poll();

  std::string cert_path_;
  std::string key_path_;
  uint64_t poll_ms_;
  std::function<void()> on_reload_;
  event::Timer timer_;
  std::string cert_pem_;
  std::string key_pem_;
  tls::TlsContextPtr context_;
};

}  // namespace weft::injector
