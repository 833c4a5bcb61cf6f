#pragma once

// Envoy's TLS transport socket (UpstreamTlsContext / DownstreamTlsContext)
// -> a weft TlsContext. Certificates and trust bundles come inline, from
// files, or by name from secrets (static_resources.secrets, SDS, or the
// proxy's own CA-issued certificate).

#include <functional>
#include <set>
#include <string>

#include "common/base/error_list.h"
#include "common/tls/tls_context.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"

namespace weft::translate {

// A secret by name; nullptr when it is not there (the resolver reports it:
// an error for a static bootstrap, warming for xDS).
using SecretResolver = std::function<const envoy::extensions::transport_sockets::tls::v3::Secret*(
    const std::string& name, const std::string& path)>;

inline constexpr char kTlsTransportSocket[] = "envoy.transport_sockets.tls";
inline constexpr char kRawBufferTransportSocket[] = "envoy.transport_sockets.raw_buffer";

// `out` stays nullptr for raw_buffer. False with errors added, or false with
// none when a referenced secret is missing (the resolver said why).
bool transportSocketFrom(const envoy::config::core::v3::TransportSocket& proto, bool server,
                         const std::string& path, const SecretResolver* secrets,
                         common::ErrorList& errors, tls::TlsContextPtr* out);

// The secret names a transport socket references (what SDS must supply).
void collectSecretNames(const envoy::config::core::v3::TransportSocket& proto,
                        std::set<std::string>* names);

// A DataSource's bytes: inline, a file, or an environment variable.
bool dataSourceBytes(const envoy::config::core::v3::DataSource& source, const std::string& path,
                     std::string* out, common::ErrorList& errors);

}  // namespace weft::translate
