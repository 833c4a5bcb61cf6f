#include "proxy/http/filters/xfcc.h"

namespace weft::http {

void applyForwardedClientCert(HeaderMap& headers, const config::HttpListenerSettings& settings,
                              const network::TransportInfo* tls) {
  using Mode = config::ForwardClientCert;
  static constexpr std::string_view kXfcc = "x-forwarded-client-cert";
  bool mtls = tls != nullptr && tls->peer_certificate;
  switch (settings.forward_client_cert) {
    case Mode::kAlwaysForwardOnly:
      return;
    case Mode::kForwardOnly:
      if (!mtls) headers.remove(kXfcc);
      return;
    case Mode::kSanitize:
      headers.remove(kXfcc);
      return;
    case Mode::kAppendForward:
    case Mode::kSanitizeSet:
      break;
  }
  if (!mtls) {
    headers.remove(kXfcc);
    return;
  }
  std::string element;
  if (!tls->local_identity.empty()) element = "By=" + tls->local_identity + ";";
  element += "Hash=" + tls->peer_cert_hash;
  if (settings.xfcc_uri && !tls->peer_identity.empty()) element += ";URI=" + tls->peer_identity;
  const std::string* existing = headers.get(kXfcc);
  if (settings.forward_client_cert == Mode::kAppendForward && existing != nullptr) {
    element = *existing + "," + element;
  }
  headers.set(kXfcc, std::move(element));
}

}  // namespace weft::http
