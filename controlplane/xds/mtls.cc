#include "controlplane/xds/mtls.h"

#include <sstream>

#include "controlplane/xds/resource_builders.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace weft::control {

namespace tls_v3 = envoy::extensions::transport_sockets::tls::v3;
namespace hcm_v3 = envoy::extensions::filters::network::http_connection_manager::v3;

namespace {

void sdsRef(tls_v3::SdsSecretConfig* sds, const char* name) {
  sds->set_name(name);
  sds->mutable_sds_config()->mutable_ads();
}

tls_v3::CommonTlsContext commonContext() {
  tls_v3::CommonTlsContext common;
  sdsRef(common.add_tls_certificate_sds_secret_configs(), mesh::kWorkloadSecret);
  return common;
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

bool meshTlsEnabled(const ConfigSet& config) { return !config.trust_bundle_pem.empty(); }

void secureOutboundCluster(const ConfigSet& config, const Service& svc, bool http_port,
                           envoy::config::cluster::v3::Cluster* cluster) {
  if (!meshTlsEnabled(config) || config.mesh.mtlsModeFor(svc.meta.ns) == "DISABLE") return;
  auto opt_out = svc.meta.annotations.find("weft.dev/mtls");
  if (opt_out != svc.meta.annotations.end() && opt_out->second == "disable") return;
  tls_v3::UpstreamTlsContext context;
  auto* common = context.mutable_common_tls_context();
  *common = commonContext();
  auto* combined = common->mutable_combined_validation_context();
  sdsRef(combined->mutable_validation_context_sds_secret_config(), mesh::kTrustBundleSecret);
  auto* names = combined->mutable_default_validation_context();
  std::string prefix = "spiffe://" + config.mesh.trust_domain + "/ns/" + svc.meta.ns + "/sa/";
  auto accounts = svc.meta.annotations.find("weft.dev/service-accounts");
  if (accounts != svc.meta.annotations.end()) {
    for (const auto& sa : splitList(accounts->second)) {
      auto* m = names->add_match_typed_subject_alt_names();
      m->set_san_type(tls_v3::SubjectAltNameMatcher::URI);
      m->mutable_matcher()->set_exact(prefix + sa);
    }
  } else {
    auto* m = names->add_match_typed_subject_alt_names();
    m->set_san_type(tls_v3::SubjectAltNameMatcher::URI);
    m->mutable_matcher()->set_prefix(prefix);
  }
  if (http_port) {
    common->add_alpn_protocols("h2");
    envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
    // The peer sidecar takes upgrades as extended CONNECTs (its HCM's allow_connect).
    options.mutable_explicit_http_config()->mutable_http2_protocol_options()->set_allow_connect(
        true);
    (*cluster->mutable_typed_extension_protocol_options())
        ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
            .PackFrom(options);
  } else {
    // Opaque TCP: the two sidecars exchange their workloads' metadata ahead
    // of the app's bytes (Istio's TCP labels at both reporters).
    common->add_alpn_protocols(mesh::kPeerExchangeAlpn);
  }
  context.set_sni(svc.meta.name + "." + svc.meta.ns + ".svc.cluster.local");
  auto* socket = cluster->mutable_transport_socket();
  socket->set_name("envoy.transport_sockets.tls");
  socket->mutable_typed_config()->PackFrom(context);
}

namespace {

envoy::config::listener::v3::FilterChain securedChain(
    envoy::config::listener::v3::FilterChain secure) {
  tls_v3::DownstreamTlsContext context;
  *context.mutable_common_tls_context() = commonContext();
  sdsRef(context.mutable_common_tls_context()->mutable_validation_context_sds_secret_config(),
         mesh::kTrustBundleSecret);
  context.mutable_common_tls_context()->add_alpn_protocols("h2");
  context.mutable_common_tls_context()->add_alpn_protocols("http/1.1");
  context.mutable_common_tls_context()->add_alpn_protocols(mesh::kPeerExchangeAlpn);
  context.mutable_require_client_certificate()->set_value(true);
  secure.mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
  secure.mutable_transport_socket()->mutable_typed_config()->PackFrom(context);
  // The app learns its caller's identity from x-forwarded-client-cert.
  auto* filter = secure.mutable_filters(0);
  hcm_v3::HttpConnectionManager hcm;
  if (filter->typed_config().UnpackTo(&hcm)) {
    hcm.set_forward_client_cert_details(hcm_v3::HttpConnectionManager::SANITIZE_SET);
    hcm.mutable_set_current_client_cert_details()->set_uri(true);
    // A caller that proved a mesh identity is a sidecar: its headers (and
    // the x-forwarded-for it carries) are the mesh's, not an edge client's.
    hcm.clear_use_remote_address();
    filter->mutable_typed_config()->PackFrom(hcm);
  }
  // Detected HTTP: behind TLS the inspector cannot read HTTP, the ALPN says.
  if (secure.filter_chain_match().application_protocols_size() > 0) matchHttpAlpn(&secure);
  return secure;
}

}  // namespace

void secureInboundListener(const ConfigSet& config, const std::string& ns,
                           envoy::config::listener::v3::Listener* listener) {
  if (!meshTlsEnabled(config) || listener->filter_chains_size() == 0) return;
  const std::string& mode = config.mesh.mtlsModeFor(ns);
  if (mode == "DISABLE") return;
  std::vector<envoy::config::listener::v3::FilterChain> plaintext(listener->filter_chains().begin(),
                                                                  listener->filter_chains().end());
  bool detecting = false;
  for (const auto& chain : plaintext) {
    detecting = detecting || chain.filter_chain_match().application_protocols_size() > 0;
  }
  listener->clear_filter_chains();
  if (mode == "STRICT") {
    for (auto& chain : plaintext) *listener->add_filter_chains() = securedChain(chain);
    // The ALPN is in the ClientHello: the tls_inspector reads it.
    if (detecting) {
      addProtocolDetection(listener, true, config.mesh.protocol_detection_timeout_ms);
    }
    return;
  }
  // PERMISSIVE: the first bytes decide; meshed clients get mTLS, the rest
  // plaintext (x-forwarded-client-cert stripped there: nobody proved it).
  bool has_inspector = false;
  for (const auto& filter : listener->listener_filters()) {
    has_inspector = has_inspector || filter.name() == "envoy.filters.listener.tls_inspector";
  }
  if (!has_inspector) {
    // First, as Envoy orders them: TLS or not, then (plaintext) which HTTP.
    listener->mutable_listener_filters()->Add()->set_name("envoy.filters.listener.tls_inspector");
    auto* filters = listener->mutable_listener_filters();
    for (int i = filters->size() - 1; i > 0; --i) filters->SwapElements(i, i - 1);
  }
  for (const auto& chain : plaintext) {
    auto secure = securedChain(chain);
    secure.mutable_filter_chain_match()->set_transport_protocol("tls");
    *listener->add_filter_chains() = std::move(secure);
  }
  for (auto& chain : plaintext) {
    chain.mutable_filter_chain_match()->set_transport_protocol("raw_buffer");
    *listener->add_filter_chains() = std::move(chain);
  }
}

tls_v3::Secret trustBundleSecret(const ConfigSet& config) {
  tls_v3::Secret secret;
  secret.set_name(mesh::kTrustBundleSecret);
  secret.mutable_validation_context()->mutable_trusted_ca()->set_inline_string(
      config.trust_bundle_pem);
  return secret;
}

}  // namespace weft::control
