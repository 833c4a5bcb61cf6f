#pragma once

// Which TLS library this binary was built against, for the startup log, the
// proxy's /server_info and weft_build_info: weft-proxy is on BoringSSL by
// default and on OpenSSL 3 as weft-proxy-openssl (third_party/tls.bzl).

#include <string>

namespace weft::tls {

// "BoringSSL", or OpenSSL's own version string ("OpenSSL 3.0.x <date>").
std::string tlsLibraryVersion();

}  // namespace weft::tls
