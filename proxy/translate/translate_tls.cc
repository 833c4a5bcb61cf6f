#include "proxy/translate/translate_tls.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/tls/tls_context_cache.h"
#include "mesh/xds_types.h"

namespace weft::translate {

namespace tls_v3 = envoy::extensions::transport_sockets::tls::v3;

namespace {

// One per process: every translation (bootstrap, each xDS response) reuses
// the contexts of configurations still in service.
tls::TlsContextCache& contextCache() {
  static tls::TlsContextCache* cache =
      new tls::TlsContextCache();  // never destroyed: no exit-order hazard
  return *cache;
}

constexpr const char* kUpstreamType = mesh::kUpstreamTlsContextType;
constexpr const char* kDownstreamType = mesh::kDownstreamTlsContextType;

bool versionFrom(tls_v3::TlsParameters::TlsProtocol v, int fallback, const std::string& path,
                 int* out, common::ErrorList& errors) {
  switch (v) {
    case tls_v3::TlsParameters::TLS_AUTO:
      *out = fallback;
      return true;
    case tls_v3::TlsParameters::TLSv1_2:
      *out = 0x0303;
      return true;
    case tls_v3::TlsParameters::TLSv1_3:
      *out = 0x0304;
      return true;
    default:
      errors.add(path, "weft speaks TLS 1.2 and 1.3 only");
      return false;
  }
}

bool validationFrom(const tls_v3::CertificateValidationContext& proto, const std::string& path,
                    tls::TlsContextConfig* out, common::ErrorList& errors) {
  bool ok = true;
  if (proto.has_trusted_ca() &&
      !dataSourceBytes(proto.trusted_ca(), path + ".trusted_ca", &out->trusted_ca_pem, errors)) {
    ok = false;
  }
  for (int i = 0; i < proto.match_typed_subject_alt_names_size(); ++i) {
    const auto& m = proto.match_typed_subject_alt_names(i);
    std::string mpath = path + ".match_typed_subject_alt_names[" + std::to_string(i) + "]";
    tls::SanMatcher matcher;
    if (m.san_type() == tls_v3::SubjectAltNameMatcher::DNS) {
      matcher.type = tls::SanMatcher::Type::kDns;
    } else if (m.san_type() != tls_v3::SubjectAltNameMatcher::URI) {
      errors.add(mpath + ".san_type", "only URI (SPIFFE identities) and DNS are supported");
      ok = false;
      continue;
    }
    if (m.matcher().has_exact()) {
      matcher.value = m.matcher().exact();
    } else if (m.matcher().has_prefix()) {
      matcher.kind = tls::SanMatcher::Kind::kPrefix;
      matcher.value = m.matcher().prefix();
    } else {
      errors.add(mpath + ".matcher", "only exact and prefix are supported");
      ok = false;
      continue;
    }
    out->match_sans.push_back(std::move(matcher));
  }
  return ok;
}

const tls_v3::Secret* secretFrom(const tls_v3::SdsSecretConfig& sds, const std::string& path,
                                 const SecretResolver* secrets, common::ErrorList& errors) {
  if (sds.name().empty()) {
    errors.add(path + ".name", "is required");
    return nullptr;
  }
  if (secrets == nullptr) {
    errors.add(path, "secret '" + sds.name() + "' cannot be resolved here");
    return nullptr;
  }
  return (*secrets)(sds.name(), path);
}

bool commonFrom(const tls_v3::CommonTlsContext& proto, const std::string& path,
                const SecretResolver* secrets, tls::TlsContextConfig* out,
                common::ErrorList& errors) {
  bool ok = true;
  const auto& params = proto.tls_params();
  std::string ppath = path + ".tls_params";
  ok &= versionFrom(params.tls_minimum_protocol_version(), 0x0303,
                    ppath + ".tls_minimum_protocol_version", &out->min_version, errors);
  ok &= versionFrom(params.tls_maximum_protocol_version(), 0x0304,
                    ppath + ".tls_maximum_protocol_version", &out->max_version, errors);
  if (params.cipher_suites_size() > 0 || params.ecdh_curves_size() > 0) {
    errors.add(ppath, "cipher_suites and ecdh_curves are not configurable (library defaults)");
    ok = false;
  }
  if (proto.tls_certificates_size() + proto.tls_certificate_sds_secret_configs_size() > 1) {
    errors.add(path, "at most one certificate (tls_certificates or its SDS config)");
    return false;
  }
  const tls_v3::TlsCertificate* cert = nullptr;
  std::string cpath;
  if (proto.tls_certificates_size() == 1) {
    cert = &proto.tls_certificates(0);
    cpath = path + ".tls_certificates[0]";
  } else if (proto.tls_certificate_sds_secret_configs_size() == 1) {
    cpath = path + ".tls_certificate_sds_secret_configs[0]";
    const tls_v3::Secret* secret =
        secretFrom(proto.tls_certificate_sds_secret_configs(0), cpath, secrets, errors);
    if (secret == nullptr) return false;
    if (!secret->has_tls_certificate()) {
      errors.add(cpath, "secret '" + secret->name() + "' holds no tls_certificate");
      return false;
    }
    cert = &secret->tls_certificate();
  }
  if (cert != nullptr) {
    ok &= dataSourceBytes(cert->certificate_chain(), cpath + ".certificate_chain",
                          &out->certificate_chain_pem, errors);
    ok &=
        dataSourceBytes(cert->private_key(), cpath + ".private_key", &out->private_key_pem, errors);
  }
  switch (proto.validation_context_type_case()) {
    case tls_v3::CommonTlsContext::kValidationContext:
      ok &= validationFrom(proto.validation_context(), path + ".validation_context", out, errors);
      break;
    case tls_v3::CommonTlsContext::kValidationContextSdsSecretConfig: {
      std::string vpath = path + ".validation_context_sds_secret_config";
      const tls_v3::Secret* secret =
          secretFrom(proto.validation_context_sds_secret_config(), vpath, secrets, errors);
      if (secret == nullptr) return false;
      ok &= validationFrom(secret->validation_context(), vpath, out, errors);
      break;
    }
    case tls_v3::CommonTlsContext::kCombinedValidationContext: {
      const auto& combined = proto.combined_validation_context();
      std::string vpath = path + ".combined_validation_context";
      ok &= validationFrom(combined.default_validation_context(),
                           vpath + ".default_validation_context", out, errors);
      std::string spath = vpath + ".validation_context_sds_secret_config";
      const tls_v3::Secret* secret =
          secretFrom(combined.validation_context_sds_secret_config(), spath, secrets, errors);
      if (secret == nullptr) return false;
      // The secret brings the trust bundle; the default context, the names.
      tls::TlsContextConfig from_secret;
      ok &= validationFrom(secret->validation_context(), spath, &from_secret, errors);
      out->trusted_ca_pem = from_secret.trusted_ca_pem;
      break;
    }
    default:
      break;
  }
  for (const auto& protocol : proto.alpn_protocols()) out->alpn.push_back(protocol);
  return ok;
}

}  // namespace

void collectSecretNames(const envoy::config::core::v3::TransportSocket& proto,
                        std::set<std::string>* names) {
  tls_v3::CommonTlsContext common;
  tls_v3::UpstreamTlsContext upstream;
  tls_v3::DownstreamTlsContext downstream;
  if (proto.typed_config().type_url() == kUpstreamType &&
      proto.typed_config().UnpackTo(&upstream)) {
    common = upstream.common_tls_context();
  } else if (proto.typed_config().type_url() == kDownstreamType &&
             proto.typed_config().UnpackTo(&downstream)) {
    common = downstream.common_tls_context();
  } else {
    return;
  }
  for (const auto& sds : common.tls_certificate_sds_secret_configs()) names->insert(sds.name());
  if (common.has_validation_context_sds_secret_config()) {
    names->insert(common.validation_context_sds_secret_config().name());
  }
  if (common.has_combined_validation_context()) {
    names->insert(
        common.combined_validation_context().validation_context_sds_secret_config().name());
  }
}

bool dataSourceBytes(const envoy::config::core::v3::DataSource& source, const std::string& path,
                     std::string* out, common::ErrorList& errors) {
  using DS = envoy::config::core::v3::DataSource;
  switch (source.specifier_case()) {
    case DS::kInlineString:
      *out = source.inline_string();
      return true;
    case DS::kInlineBytes:
      *out = source.inline_bytes();
      return true;
    case DS::kFilename: {
      std::ifstream in(source.filename(), std::ios::binary);
      if (!in) {
        errors.add(path + ".filename", "cannot read '" + source.filename() + "'");
        return false;
      }
      std::ostringstream data;
      data << in.rdbuf();
      *out = data.str();
      return true;
    }
    case DS::kEnvironmentVariable: {
      const char* value = std::getenv(source.environment_variable().c_str());
      if (value == nullptr) {
        errors.add(path + ".environment_variable",
                   "'" + source.environment_variable() + "' is not set");
        return false;
      }
      *out = value;
      return true;
    }
    default:
      errors.add(path, "is empty");
      return false;
  }
}

bool transportSocketFrom(const envoy::config::core::v3::TransportSocket& proto, bool server,
                         const std::string& path, const SecretResolver* secrets,
                         common::ErrorList& errors, tls::TlsContextPtr* out) {
  *out = nullptr;
  const std::string& type = proto.typed_config().type_url();
  if (proto.name() == kRawBufferTransportSocket && !proto.has_typed_config()) return true;
  if (proto.name() != kTlsTransportSocket && type != kUpstreamType && type != kDownstreamType) {
    errors.add(path + ".name", "'" + proto.name() + "' is not a transport socket weft has (" +
                                   kTlsTransportSocket + ", " + kRawBufferTransportSocket + ")");
    return false;
  }
  tls::TlsContextConfig config;
  config.server = server;
  std::string tpath = path + ".typed_config";
  bool ok = true;
  if (server) {
    tls_v3::DownstreamTlsContext context;
    if (type != kDownstreamType || !proto.typed_config().UnpackTo(&context)) {
      errors.add(tpath, "a listener's transport socket needs a DownstreamTlsContext");
      return false;
    }
    ok = commonFrom(context.common_tls_context(), tpath + ".common_tls_context", secrets, &config,
                    errors);
    config.require_client_certificate = context.require_client_certificate().value();
  } else {
    tls_v3::UpstreamTlsContext context;
    if (type != kUpstreamType || !proto.typed_config().UnpackTo(&context)) {
      errors.add(tpath, "a cluster's transport socket needs an UpstreamTlsContext");
      return false;
    }
    ok = commonFrom(context.common_tls_context(), tpath + ".common_tls_context", secrets, &config,
                    errors);
    config.sni = context.sni();
  }
  if (!ok) return false;
  std::string error;
  *out = contextCache().getOrCreate(std::move(config), &error);
  if (*out == nullptr) {
    errors.add(tpath, error);
    return false;
  }
  return true;
}

}  // namespace weft::translate
