#include "controlplane/kube/ca_secret.h"

#include <nlohmann/json.hpp>

#include "common/base/base64.h"
#include "security/certificate_authority.h"

namespace weft::control::kube {

namespace {

constexpr char kCertKey[] = "ca.crt";
constexpr char kKeyKey[] = "ca.key";

bool decodeInto(const std::string& text, std::string* out) {
  auto decoded = common::base64Decode(text);
  if (decoded) *out = std::move(*decoded);
  return decoded.has_value();
}

// 1 found, 0 absent, -1 error.
int read(const http::HttpEndpoint& server, const std::string& path, const std::string& ref,
         CaSecret* out, std::string* error) {
  http::BlockingHttpClient get;
  if (!get.get(server, path, 30, error)) return -1;
  std::string body = get.readAll();
  if (get.status() == 404) return 0;
  if (get.status() != 200) {
    *error =
        "GET Secret " + ref + ": HTTP " + std::to_string(get.status()) + ": " + body.substr(0, 200);
    return -1;
  }
  auto secret = nlohmann::json::parse(body, nullptr, false);
  const nlohmann::json* data =
      secret.is_object() && secret.contains("data") && secret["data"].is_object() ? &secret["data"]
                                                                                  : nullptr;
  if (data == nullptr || !data->contains(kCertKey) || !data->contains(kKeyKey) ||
      !(*data)[kCertKey].is_string() || !(*data)[kKeyKey].is_string() ||
      !decodeInto((*data)[kCertKey].get<std::string>(), &out->cert_pem) ||
      !decodeInto((*data)[kKeyKey].get<std::string>(), &out->key_pem)) {
    *error = "Secret " + ref + " has no base64 data." + kCertKey + " and data." + kKeyKey;
    return -1;
  }
  return 1;
}

}  // namespace

bool loadOrCreateCaSecret(const http::HttpEndpoint& server, const std::string& ref,
                          const std::string& trust_domain, CaSecret* out, std::string* error) {
  size_t slash = ref.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == ref.size() ||
      ref.find('/', slash + 1) != std::string::npos) {
    *error = "--ca-secret '" + ref + "' is not NAMESPACE/NAME";
    return false;
  }
  std::string ns = ref.substr(0, slash), name = ref.substr(slash + 1);
  std::string collection = "/api/v1/namespaces/" + ns + "/secrets";
  int found = read(server, collection + "/" + name, ref, out, error);
  if (found < 0) return false;
  if (found == 1) {
    out->origin = "Secret " + ref + " (existing)";
    return true;
  }
  auto root = security::CertificateAuthority::generateRoot("weft mesh root (" + trust_domain + ")",
                                                           10LL * 365 * 86400, error);
  if (!root) return false;
  nlohmann::json secret = {{"apiVersion", "v1"},
                           {"kind", "Secret"},
                           {"type", "Opaque"},
                           {"metadata",
                            {{"name", name},
                             {"namespace", ns},
                             {"labels", {{"app.kubernetes.io/managed-by", "weft-control"}}}}},
                           {"data",
                            {{kCertKey, common::base64Encode(root->certificatePem())},
                             {kKeyKey, common::base64Encode(root->keyPem())}}}};
  http::BlockingHttpClient create;
  if (!create.request(server, "POST", collection, secret.dump(), 30, error)) return false;
  std::string answer = create.readAll();
  if (create.status() == 409) {
    // Another weft-control created it first: sign with theirs.
    if (read(server, collection + "/" + name, ref, out, error) != 1) {
      if (error->empty()) *error = "Secret " + ref + " vanished after a 409";
      return false;
    }
    out->origin = "Secret " + ref + " (created by another replica)";
    return true;
  }
  if (create.status() != 201 && create.status() != 200) {
    *error = "POST Secret " + ref + ": HTTP " + std::to_string(create.status()) + ": " +
             answer.substr(0, 200);
    return false;
  }
  out->cert_pem = root->certificatePem();
  out->key_pem = root->keyPem();
  out->origin = "Secret " + ref + " (created)";
  return true;
}

}  // namespace weft::control::kube
