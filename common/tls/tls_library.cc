#include "common/tls/tls_library.h"

#include <openssl/crypto.h>

namespace weft::tls {

// Both libraries answer OpenSSL_version(OPENSSL_VERSION): BoringSSL with the
// fixed string "BoringSSL" (it has no release numbers), OpenSSL with its
// version and date. No #if needed.
std::string tlsLibraryVersion() { return OpenSSL_version(OPENSSL_VERSION); }

}  // namespace weft::tls
