#include "common/tls/tls_context_cache.h"

namespace weft::tls {

namespace {
void field(std::string& key, const std::string& value) {
  key += std::to_string(value.size());
  key += ':';
  key += value;
}
}  // namespace

std::string TlsContextCache::keyOf(const TlsContextConfig& config) {
  // Every field, length-prefixed, so no two configurations share a key.
  std::string key;
  key += config.server ? 'S' : 'C';
  key += config.require_client_certificate ? 'R' : '-';
  field(key, std::to_string(config.min_version) + "-" + std::to_string(config.max_version));
  field(key, config.certificate_chain_pem);
  field(key, config.private_key_pem);
  field(key, config.trusted_ca_pem);
  field(key, config.sni);
  key += std::to_string(config.alpn.size()) + "a";
  for (const auto& protocol : config.alpn) field(key, protocol);
  key += std::to_string(config.match_sans.size()) + "m";
  for (const auto& san : config.match_sans) {
    key += std::to_string(static_cast<int>(san.kind));
    key += std::to_string(static_cast<int>(san.type));
    field(key, san.value);
  }
  return key;
}

TlsContextPtr TlsContextCache::getOrCreate(TlsContextConfig config, std::string* error) {
  std::string key = keyOf(config);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = contexts_.find(key);
  if (it != contexts_.end()) {
    if (TlsContextPtr live = it->second.lock()) return live;
  }
  TlsContextPtr made = TlsContext::create(std::move(config), error);
  if (made == nullptr) return nullptr;
  // Forget contexts no configuration uses any more (the map stays as small
  // as the set of distinct TLS configs in service).
  for (auto e = contexts_.begin(); e != contexts_.end();) {
    e = e->second.expired() ? contexts_.erase(e) : std::next(e);
  }
  contexts_[key] = made;
  return made;
}

size_t TlsContextCache::liveEntries() {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t n = 0;
  for (const auto& [key, context] : contexts_) n += context.expired() ? 0 : 1;
  return n;
}

}  // namespace weft::tls
