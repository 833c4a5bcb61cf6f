#include "proxy/xds/xds_client.h"

#include "common/base/logging.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace weft::xds {

namespace discovery = envoy::service::discovery::v3;

namespace {
constexpr char kAdsMethod[] =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
constexpr uint64_t kMaxBackoffMs = 30000;
constexpr uint64_t kWarmingTimeoutMs = 5000;

// Unpacks every resource of a response into `out` by name; "" or an error.
template <class M>
std::string unpackAll(const discovery::DiscoveryResponse& response, std::map<std::string, M>* out,
                      const std::function<std::string(const M&)>& name_of) {
  for (int i = 0; i < response.resources_size(); ++i) {
    const auto& any = response.resources(i);
    M message;
    if (any.type_url() != response.type_url() || !any.UnpackTo(&message)) {
      return "resource " + std::to_string(i) + " is not a " + response.type_url();
    }
    std::string name = name_of(message);
    if (name.empty()) return "resource " + std::to_string(i) + " has no name";
    if (out->count(name)) return "duplicate resource '" + name + "'";
    // A field weft does not know means the server expects behaviour weft
    // lacks: reject rather than ignore it.
    if (!message.GetReflection()->GetUnknownFields(message).empty()) {
      return "resource '" + name + "' has fields weft does not implement";
    }
    (*out)[name] = std::move(message);
  }
  return "";
}
}  // namespace

XdsClient::XdsClient(event::Dispatcher& dispatcher, envoy::config::core::v3::Node node,
                     network::Address server, std::string authority, Builder builder,
                     OnUpdate on_update)
    : dispatcher_(dispatcher),
      node_(std::move(node)),
      server_(server),
      authority_(std::move(authority)),
      builder_(std::move(builder)),
      on_update_(std::move(on_update)),
      retry_timer_(dispatcher, [this] { connect(); }),
      warming_timer_(dispatcher, [this] {
        LOG_WARN("xds: warming timed out; applying the configuration with what has arrived");
        maybePublish(/*force=*/true);
      }) {
  node_.set_user_agent_name("weft-proxy");
  node_.add_client_features("envoy.lb.does_not_support_overprovisioning");
}

XdsClient::~XdsClient() = default;

void XdsClient::start() { connect(); }

void XdsClient::connect() {
  if (stream_) dispatcher_.deferDelete(std::move(stream_));
  node_sent_ = false;
  nonce_ = {};
  stream_ = std::make_unique<grpc::GrpcStream>(
      dispatcher_, server_, authority_, kAdsMethod,
      [this](std::string_view bytes) { onMessage(bytes); },
      [this](int status, const std::string& message) { onClose(status, message); });
  stream_->start();
  // Everything subscribed so far, with the versions in service, so the
  // server can tell what this proxy already has.
  sendRequest(kCds, "", nullptr);
  sendRequest(kLds, "", nullptr);
  if (!eds_names_.empty()) sendRequest(kEds, "", nullptr);
  if (!rds_names_.empty()) sendRequest(kRds, "", nullptr);
  if (!sds_names_.empty()) sendRequest(kSds, "", nullptr);
}

void XdsClient::setLocalSecret(
    const envoy::extensions::transport_sockets::tls::v3::Secret& secret) {
  // A renewed certificate goes into service now, whatever is warming: held
  // back behind a route that has not arrived (a control plane restarting
  // mid-push), a short-lived certificate would expire in use. So it is
  // applied to the configuration in service, and also merged into the one
  // warming, which keeps waiting for what it lacks.
  bool warming = unpublished_ != nullptr;
  translate::DynamicResources in_service = warming ? published_ : resources_;
  in_service.secrets[secret.name()] = secret;
  std::vector<std::string> missing;
  std::string error;
  config::SnapshotPtr snapshot = builder_(in_service, &missing, &error);
  if (snapshot == nullptr) {
    LOG_ERROR("xds: local secret '%s' does not build: %s", secret.name().c_str(), error.c_str());
    return;
  }
  local_secrets_[secret.name()] = secret;
  published_ = in_service;
  published_once_ = true;
  on_update_(std::move(snapshot), published_);
  if (!warming) {
    resources_ = std::move(in_service);
    updateSubscriptions();
    return;
  }
  translate::DynamicResources pending = resources_;
  pending.secrets[secret.name()] = secret;
  missing.clear();
  config::SnapshotPtr pending_snapshot = builder_(pending, &missing, &error);
  if (pending_snapshot != nullptr) {
    resources_ = std::move(pending);
    unpublished_ = std::move(pending_snapshot);
    missing_ = std::move(missing);
  }
  updateSubscriptions();
  maybePublish(/*force=*/false);
}

void XdsClient::onClose(int status, const std::string& message) {
  uint64_t jittered = backoff_ms_ / 2 + rng_() % (backoff_ms_ / 2 + 1);
  LOG_WARN(
      "xds: stream to %s closed (grpc-status %d: %s); retrying in %llu ms; serving the last "
      "configuration meanwhile",
      server_.toString().c_str(), status, message.c_str(),
      static_cast<unsigned long long>(jittered));
  retry_timer_.enableMs(jittered);
  backoff_ms_ = std::min(backoff_ms_ * 2, kMaxBackoffMs);
}

void XdsClient::sendRequest(XdsType type, const std::string& nonce, const std::string* error) {
  discovery::DiscoveryRequest request;
  if (!node_sent_) {
    *request.mutable_node() = node_;
    node_sent_ = true;
  }
  request.set_type_url(mesh::typeUrl(type));
  request.set_version_info(status_[type].version);
  request.set_response_nonce(nonce);
  const std::set<std::string>* names = type == kEds   ? &eds_names_
                                       : type == kRds ? &rds_names_
                                       : type == kSds ? &sds_names_
                                                      : nullptr;
  if (names != nullptr) {
    for (const auto& n : *names) request.add_resource_names(n);
  }
  if (error != nullptr) {
    request.mutable_error_detail()->set_code(3);  // INVALID_ARGUMENT
    request.mutable_error_detail()->set_message(*error);
  }
  requested_[type] = true;
  stream_->send(request.SerializeAsString());
}

void XdsClient::onMessage(std::string_view bytes) {
  discovery::DiscoveryResponse response;
  if (!response.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    LOG_WARN("xds: unparseable DiscoveryResponse (%zu bytes)", bytes.size());
    return;
  }
  backoff_ms_ = 250;  // the server answers: the next failure starts over
  handleResponse(response);
}

void XdsClient::handleResponse(const discovery::DiscoveryResponse& response) {
  XdsType type = mesh::typeFromUrl(response.type_url());
  if (type == kXdsTypeCount) {
    LOG_WARN("xds: ignoring unsupported type %s", response.type_url().c_str());
    return;
  }
  nonce_[type] = response.nonce();
  translate::DynamicResources candidate = resources_;
  std::string error;
  switch (type) {
    case kCds:
      candidate.clusters.clear();
      error = unpackAll<envoy::config::cluster::v3::Cluster>(
          response, &candidate.clusters, [](const auto& m) { return m.name(); });
      break;
    case kLds:
      candidate.listeners.clear();
      error = unpackAll<envoy::config::listener::v3::Listener>(
          response, &candidate.listeners, [](const auto& m) { return m.name(); });
      break;
    case kEds:
      candidate.endpoints.clear();
      error = unpackAll<envoy::config::endpoint::v3::ClusterLoadAssignment>(
          response, &candidate.endpoints, [](const auto& m) { return m.cluster_name(); });
      break;
    case kRds:
      candidate.routes.clear();
      error = unpackAll<envoy::config::route::v3::RouteConfiguration>(
          response, &candidate.routes, [](const auto& m) { return m.name(); });
      break;
    case kSds:
      candidate.secrets.clear();
      error = unpackAll<envoy::extensions::transport_sockets::tls::v3::Secret>(
          response, &candidate.secrets, [](const auto& m) { return m.name(); });
      for (const auto& [name, secret] : local_secrets_) {
        if (error.empty() && candidate.secrets.count(name)) {
          error = "secret '" + name + "' is this proxy's own; the server may not send it";
        }
        candidate.secrets[name] = secret;
      }
      break;
    default:
      break;
  }
  std::vector<std::string> missing;
  config::SnapshotPtr snapshot;
  if (error.empty()) snapshot = builder_(candidate, &missing, &error);
  if (error.empty() && snapshot == nullptr) error = "the configuration does not build";
  TypeStatus& status = status_[type];
  if (!error.empty()) {
    status.rejected_version = response.version_info();
    status.rejected_error = error;
    ++status.rejected;
    LOG_WARN("xds: rejecting %s version %s: %s", mesh::shortName(type),
             response.version_info().c_str(), error.c_str());
    sendRequest(type, response.nonce(), &error);
    return;
  }
  resources_ = std::move(candidate);
  unpublished_ = std::move(snapshot);
  missing_ = std::move(missing);
  status.version = response.version_info();
  ++status.accepted;
  LOG_INFO("xds: accepted %s version %s (%d resources)", mesh::shortName(type),
           response.version_info().c_str(), response.resources_size());
  sendRequest(type, response.nonce(), nullptr);
  updateSubscriptions();
  maybePublish(/*force=*/false);
}

void XdsClient::updateSubscriptions() {
  std::set<std::string> eds;
  for (const auto& [name, cluster] : resources_.clusters) {
    if (cluster.type() != envoy::config::cluster::v3::Cluster::EDS) continue;
    eds.insert(cluster.eds_cluster_config().service_name().empty()
                   ? cluster.name()
                   : cluster.eds_cluster_config().service_name());
  }
  std::set<std::string> rds;
  for (const auto& [name, listener] : resources_.listeners) {
    for (auto& route_name : translate::rdsNames(listener)) rds.insert(route_name);
  }
  if (eds != eds_names_) {
    eds_names_ = std::move(eds);
    // Drop assignments nobody references any more.
    for (auto it = resources_.endpoints.begin(); it != resources_.endpoints.end();) {
      it = eds_names_.count(it->first) ? std::next(it) : resources_.endpoints.erase(it);
    }
    sendRequest(kEds, nonce_[kEds], nullptr);
  }
  std::set<std::string> sds;
  for (const auto& [name, cluster] : resources_.clusters) {
    if (cluster.has_transport_socket())
      translate::collectSecretNames(cluster.transport_socket(), &sds);
  }
  for (const auto& [name, listener] : resources_.listeners) {
    for (const auto& chain : listener.filter_chains()) {
      if (chain.has_transport_socket())
        translate::collectSecretNames(chain.transport_socket(), &sds);
    }
  }
  for (const auto& [name, secret] : local_secrets_) sds.erase(name);
  if (sds != sds_names_) {
    sds_names_ = std::move(sds);
    for (auto it = resources_.secrets.begin(); it != resources_.secrets.end();) {
      it = sds_names_.count(it->first) || local_secrets_.count(it->first)
               ? std::next(it)
               : resources_.secrets.erase(it);
    }
    sendRequest(kSds, nonce_[kSds], nullptr);
  }
  if (rds != rds_names_) {
    rds_names_ = std::move(rds);
    for (auto it = resources_.routes.begin(); it != resources_.routes.end();) {
      it = rds_names_.count(it->first) ? std::next(it) : resources_.routes.erase(it);
    }
    sendRequest(kRds, nonce_[kRds], nullptr);
  }
}

void XdsClient::rebuild() {
  std::vector<std::string> missing;
  std::string error;
  if (unpublished_ != nullptr) {
    // The configuration warming may have been waiting for exactly this.
    config::SnapshotPtr pending = builder_(resources_, &missing, &error);
    if (pending != nullptr) {
      unpublished_ = std::move(pending);
      missing_ = missing;
      maybePublish(/*force=*/false);
      if (unpublished_ == nullptr) return;  // published: it is the one in service
    }
  }
  if (!published_once_) return;  // nothing in service to rebuild yet
  missing.clear();
  config::SnapshotPtr snapshot = builder_(published_, &missing, &error);
  if (snapshot == nullptr) {
    LOG_ERROR("xds: the configuration in service no longer builds: %s", error.c_str());
    return;
  }
  on_update_(std::move(snapshot), published_);
}

void XdsClient::maybePublish(bool force) {
  if (unpublished_ == nullptr) return;
  if (!missing_.empty() && !force) {
    // Warming: keep serving the previous configuration until what the new
    // one references has arrived, or the timeout says to go ahead.
    if (!warming_timer_.enabled()) warming_timer_.enableMs(kWarmingTimeoutMs);
    return;
  }
  warming_timer_.disable();
  config::SnapshotPtr snapshot = std::move(unpublished_);
  unpublished_ = nullptr;
  published_ = resources_;
  published_once_ = true;
  on_update_(std::move(snapshot), published_);
}

}  // namespace weft::xds
