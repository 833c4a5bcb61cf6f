#include "controlplane/xds/ads_server.h"

#include <chrono>
#include <deque>
#include <optional>
#include <set>

#include "common/base/logging.h"
#include "controlplane/metrics/metrics.h"

namespace weft::control {

namespace discovery = envoy::service::discovery::v3;

void StreamRegistry::add(Entry* entry) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.push_back(entry);
}

void StreamRegistry::remove(Entry* entry) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.erase(std::remove(entries_.begin(), entries_.end(), entry), entries_.end());
}

std::vector<ProxySyncStatus> StreamRegistry::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<ProxySyncStatus> out;
  for (auto* e : entries_) out.push_back(e->status());
  return out;
}

size_t StreamRegistry::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

namespace {

// What a stream's client subscribed to for one resource type, and the nonce
// of the last response of that type. Both protocols keep this; each adds its
// own (SotW: what was sent; delta: what the client holds).
struct Subscription {
  bool requested = false;
  bool wildcard = false;
  std::set<std::string> names;
  std::string sent_nonce;

  bool wants(const std::string& name) const { return wildcard || names.count(name) > 0; }
};

// Shared by both protocol flavours: who the proxy is, what it subscribed to,
// what it was sent and what it acknowledged. Guarded by `mutex`. `TypeState`
// extends Subscription.
template <class Request, class Response, class TypeState>
class StreamBase : public grpc::ServerBidiReactor<Request, Response>, public StreamRegistry::Entry {
 public:
  StreamBase(XdsCache& cache, StreamRegistry& registry, ControlMetrics& metrics,
             const char* protocol)
      : cache_(cache), registry_(registry), metrics_(metrics) {
    status_.protocol = protocol;
    this->StartRead(&request_);
  }

  ProxySyncStatus status() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mutex_);
    writing_ = false;
    writes_.pop_front();
    if (!ok) return;
    if (!writes_.empty()) startWriteLocked();
  }

  void OnDone() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    if (watcher_id_ != 0) cache_.removeWatcher(watcher_id_);
    if (registered_) {
      registry_.remove(this);
      metrics_.proxyDisconnected();
      LOG_INFO("xds: %s disconnected (%s)", status_.node_id.c_str(), status_.protocol.c_str());
    }
    // The last holder of the guard deletes this object: here, or a watcher
    // call still running on another thread.
    alive_.reset();
  }

  void OnCancel() override {}

  void OnReadDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status::OK);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!registered_ && request_.has_node()) registerProxy(request_.node());
      if (registered_) handleRequestLocked(request_);
    }
    this->StartRead(&request_);
  }

 protected:
  virtual void handleRequestLocked(const Request& request) = 0;

  // Records the proxy's reply to a response of `type`: a NACK (with the
  // proxy's error) or an ACK of `version`. Returns true for an ACK.
  bool recordReplyLocked(ResourceType type, const Request& request, const std::string& version) {
    if (request.has_error_detail()) {
      status_.nacked_error[type] = request.error_detail().message();
      metrics_.nack();
      LOG_WARN("xds: %s NACKed %s (%s; version in service %s): %s", status_.node_id.c_str(),
               mesh::shortName(type), status_.protocol.c_str(), status_.acked[type].c_str(),
               request.error_detail().message().c_str());
      return false;
    }
    status_.acked[type] = version;
    status_.nacked_error[type].clear();
    metrics_.ack(type);
    return true;
  }
  void registerProxy(const envoy::config::core::v3::Node& node) {
    identity_ = ProxyIdentity::fromNode(node);
    status_.node_id = node.id();
    auto admin = node.metadata().fields().find("ADMIN_ADDRESS");
    if (admin != node.metadata().fields().end()) {
      status_.admin_address = admin->second.string_value();
    }
    registered_ = true;
    registry_.add(this);
    metrics_.proxyConnected();
    LOG_INFO("xds: %s connected (%s)", node.id().c_str(), status_.protocol.c_str());
    std::weak_ptr<Guard> weak = alive_;
    watcher_id_ = cache_.addWatcher([weak] {
      if (auto strong = weak.lock()) strong->self->onConfigChanged();
    });
  }

  // Sends what `type` needs now; `config_changed`: because the configuration
  // changed (not because the client asked).
  virtual void pushLocked(ResourceType type, bool config_changed) = 0;

  void onConfigChanged() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_) return;
    for (ResourceType type : kPushOrder) {
      if (types_[type].requested) pushLocked(type, /*config_changed=*/true);
    }
  }

  // A reply to an older response than the last one of its type: superseded.
  bool supersededLocked(ResourceType type, const std::string& nonce) {
    return !nonce.empty() && nonce != types_[type].sent_nonce;
  }

  // The resources this proxy sees now (nullptr before the first configuration),
  // including the API listeners its LDS subscription names (gRPC clients).
  std::shared_ptr<const ProxyResources> resourcesLocked() {
    std::set<std::string> api_listener_names;
    for (const auto& n : types_[kLds].names) {
      if (n != "*") api_listener_names.insert(n);
    }
    status_.resources = cache_.resourcesFor(identity_, api_listener_names);
    return status_.resources;
  }

  void sendLocked(ResourceType type, Response response, const std::string& version) {
    response.set_nonce(std::to_string(++nonce_counter_));
    types_[type].sent_nonce = response.nonce();
    status_.sent[type] = version;
    metrics_.push();
    enqueueLocked(std::move(response));
  }

  void enqueueLocked(Response response) {
    if (done_) return;
    writes_.push_back(std::move(response));
    if (!writing_) startWriteLocked();
  }

  void startWriteLocked() {
    writing_ = true;
    this->StartWrite(&writes_.front());
  }

  XdsCache& cache_;
  StreamRegistry& registry_;
  ControlMetrics& metrics_;
  mutable std::mutex mutex_;
  Request request_;
  std::deque<Response> writes_;  // front() is in flight while writing_
  bool writing_ = false;
  bool done_ = false;
  bool registered_ = false;
  uint64_t watcher_id_ = 0;
  uint64_t nonce_counter_ = 0;
  ProxyIdentity identity_;
  ProxySyncStatus status_;
  std::map<ResourceType, TypeState> types_;
  // Owns this reactor: gRPC hands it back in OnDone, and a config-change
  // callback running on another thread may still be using it then.
  struct Guard {
    StreamBase* self;
    ~Guard() { delete self; }
  };
  std::shared_ptr<Guard> alive_{new Guard{this}};
};

// ---- state of the world ----

struct SotwTypeState : Subscription {
  std::string sent_version;
  // When a configuration change was pushed: the ACK measures push latency.
  std::optional<std::chrono::steady_clock::time_point> pushed_at;
};

class SotwStream final
    : public StreamBase<discovery::DiscoveryRequest, discovery::DiscoveryResponse, SotwTypeState> {
 public:
  using StreamBase::StreamBase;

 private:
  void handleRequestLocked(const discovery::DiscoveryRequest& request) override {
    ResourceType type = typeFromUrl(request.type_url());
    if (type == kXdsTypeCount) return;  // a type weft does not serve: nothing to send
    if (supersededLocked(type, request.response_nonce())) return;
    SotwTypeState& state = types_[type];
    if (!request.response_nonce().empty() &&
        recordReplyLocked(type, request, request.version_info()) && state.pushed_at) {
      metrics_.pushAcked(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - *state.pushed_at)
              .count());
      state.pushed_at.reset();
    }
    std::set<std::string> names(request.resource_names().begin(), request.resource_names().end());
    bool wildcard = names.empty() || names.count("*") > 0;
    if (type == kEds || type == kRds) wildcard = names.count("*") > 0;
    bool changed = !state.requested || names != state.names || wildcard != state.wildcard;
    state.requested = true;
    state.names = std::move(names);
    state.wildcard = wildcard;
    if (changed) pushLocked(type, /*config_changed=*/false);
  }

  void pushLocked(ResourceType type, bool config_changed) override {
    SotwTypeState& state = types_[type];
    auto resources = resourcesLocked();
    if (resources == nullptr) return;  // answered once the first configuration is in
    discovery::DiscoveryResponse response;
    response.set_type_url(typeUrl(type));
    std::string version_input;
    for (const auto& [name, resource] : resources->by_type[type]) {
      if (!state.wants(name)) continue;
      *response.add_resources() = resource.any;
      version_input += name + resource.version;
    }
    std::string version = contentHash(version_input);
    if (config_changed && version == state.sent_version) return;
    response.set_version_info(version);
    state.sent_version = version;
    if (config_changed) state.pushed_at = std::chrono::steady_clock::now();
    sendLocked(type, std::move(response), version);
  }
};

// ---- delta (incremental) ----

struct DeltaTypeState : Subscription {
  std::map<std::string, std::string> client_versions;  // what the client holds
};

class DeltaStream final : public StreamBase<discovery::DeltaDiscoveryRequest,
                                            discovery::DeltaDiscoveryResponse, DeltaTypeState> {
 public:
  using StreamBase::StreamBase;

 private:
  void handleRequestLocked(const discovery::DeltaDiscoveryRequest& request) override {
    ResourceType type = typeFromUrl(request.type_url());
    if (type == kXdsTypeCount) return;
    if (supersededLocked(type, request.response_nonce())) return;
    DeltaTypeState& state = types_[type];
    if (!request.response_nonce().empty()) recordReplyLocked(type, request, status_.sent[type]);
    bool first = !state.requested;
    state.requested = true;
    if (first) {
      // Delta: a first request without names subscribes to everything (for
      // the wildcard types); a reconnecting client says what it already has.
      state.wildcard =
          request.resource_names_subscribe_size() == 0 && (type == kCds || type == kLds);
      for (const auto& [name, version] : request.initial_resource_versions()) {
        state.client_versions[name] = version;
      }
    }
    for (const auto& n : request.resource_names_subscribe()) {
      if (n == "*") {
        state.wildcard = true;
      } else {
        state.names.insert(n);
      }
    }
    for (const auto& n : request.resource_names_unsubscribe()) {
      if (n == "*") state.wildcard = false;
      state.names.erase(n);
      state.client_versions.erase(n);
    }
    if (first || request.resource_names_subscribe_size() > 0) {
      pushLocked(type, /*config_changed=*/false);
    }
  }

  void pushLocked(ResourceType type, bool /*config_changed*/) override {
    DeltaTypeState& state = types_[type];
    auto resources = resourcesLocked();
    if (resources == nullptr) return;  // answered once the first configuration is in
    discovery::DeltaDiscoveryResponse response;
    response.set_type_url(typeUrl(type));
    const auto& current = resources->by_type[type];
    for (const auto& [name, resource] : current) {
      if (!state.wants(name)) continue;
      auto it = state.client_versions.find(name);
      if (it != state.client_versions.end() && it->second == resource.version) continue;
      auto* r = response.add_resources();
      r->set_name(name);
      r->set_version(resource.version);
      *r->mutable_resource() = resource.any;
      state.client_versions[name] = resource.version;
    }
    for (auto it = state.client_versions.begin(); it != state.client_versions.end();) {
      if (current.count(it->first) == 0) {
        response.add_removed_resources(it->first);
        it = state.client_versions.erase(it);
      } else {
        ++it;
      }
    }
    if (response.resources_size() == 0 && response.removed_resources_size() == 0 &&
        !state.sent_nonce.empty()) {
      return;
    }
    response.set_system_version_info(resources->version[type]);
    sendLocked(type, std::move(response), resources->version[type]);
  }
};

}  // namespace

grpc::ServerBidiReactor<discovery::DiscoveryRequest, discovery::DiscoveryResponse>*
AdsService::StreamAggregatedResources(grpc::CallbackServerContext*) {
  return new SotwStream(cache_, registry_, metrics_, "sotw");
}

grpc::ServerBidiReactor<discovery::DeltaDiscoveryRequest, discovery::DeltaDiscoveryResponse>*
AdsService::DeltaAggregatedResources(grpc::CallbackServerContext*) {
  return new DeltaStream(cache_, registry_, metrics_, "delta");
}

}  // namespace weft::control
