#include "proxy/server/worker.h"

#include <pthread.h>
#include <unistd.h>

#include <optional>
#include <set>
#include <string>

#include "common/base/logging.h"
#include "common/tls/tls_socket.h"
#include "proxy/http/connection_manager.h"
#include "proxy/network/protocol_inspector.h"
#include "proxy/tcp/tcp_proxy.h"

namespace weft::server {

Worker::Worker(int index, stats::Store& stats, stats::IstioMetrics& istio)
    : index_(index),
      stats_(stats),
      istio_(istio),
      dispatcher_(std::make_unique<event::Dispatcher>()),
      cluster_manager_(std::make_unique<upstream::WorkerClusterManager>(*dispatcher_, stats)) {}

Worker::~Worker() {
  join();
  // Tear down on this (the joining) thread once the loop no longer runs.
  listeners_.clear();
  connections_.clear();
  cluster_manager_.reset();
  dispatcher_.reset();
}

void Worker::start() {
  thread_ = std::thread([this] {
    // Named for top -H and gdb: which worker burns the CPU.
    std::string name = "weft-worker-" + std::to_string(index_);
    pthread_setname_np(pthread_self(), name.c_str());
    dispatcher_->run();
  });
}

void Worker::apply(config::SnapshotPtr snapshot, upstream::RuntimeViewsPtr runtime,
                   std::vector<int> listener_fds) {
  dispatcher_->post([this, snapshot = std::move(snapshot), runtime = std::move(runtime),
                     fds = std::move(listener_fds)] {
    drainChangedConnections(*snapshot);
    snapshot_ = snapshot;
    cluster_manager_->update(*snapshot_, *runtime);
    listener_stats_.clear();
    listeners_.clear();
    for (size_t i = 0; i < snapshot_->listeners.size(); ++i) {
      listener_stats_.push_back(stats_.listener(snapshot_->listeners[i].name));
      if (i >= fds.size() || fds[i] < 0) {
        listeners_.push_back(nullptr);
        continue;
      }
      if (draining_) {
        ::close(fds[i]);
        listeners_.push_back(nullptr);
        continue;
      }
      listeners_.push_back(std::make_unique<network::Listener>(
          *dispatcher_, fds[i], [this, i](std::unique_ptr<network::Connection> connection) {
            onAccept(i, std::move(connection));
          }));
    }
  });
}

namespace {
// A connection whose first bytes are being read to pick its filter chain.
class InspectingConnection : public context::ActiveConnection {
 public:
  template <class... Args>
  explicit InspectingConnection(Args&&... args) : inspector(std::forward<Args>(args)...) {}
  void startDrain() override {}  // it either hands off or times out within the inspect timeout
  std::optional<network::ProtocolInspector> inspector;
};
}  // namespace

void Worker::onAccept(size_t index, std::unique_ptr<network::Connection> connection) {
  if (draining_) return;  // closes the connection
  if (snapshot_->listeners[index].use_original_dst) {
    if (auto original = connection->originalDestination()) {
      connection->restoreLocalAddress(*original);
      int owner = snapshot_->listenerForOriginalDestination(*original);
      if (owner >= 0) index = static_cast<size_t>(owner);
      // No listener for it: this listener's own chains (a passthrough).
    }
  }
  const config::ListenerConfig& listener = snapshot_->listeners[index];
  // The listener's own port, or the original destination's when redirected.
  uint16_t port = connection->localAddress().port();
  if (!listener.needsInspection(port)) {
    startChain(index, listener.selectChain(port), std::move(connection), {});
    return;
  }
  auto pending = std::make_unique<InspectingConnection>();
  InspectingConnection* raw = pending.get();
  config::SnapshotPtr snapshot = snapshot_;
  pending->inspector.emplace(
      *dispatcher_, std::move(connection), listener.inspect_timeout_ms,
      [this, raw, index, port, snapshot](std::unique_ptr<network::Connection> conn,
                                         network::DetectedProtocols detected, std::string initial) {
        if (snapshot == snapshot_) {
          stats::countProtocolDetection(listener_stats_[index], detected.result.c_str());
          startChain(
              index,
              snapshot->listeners[index].selectChain(port, detected.tls, detected.application),
              std::move(conn), initial);
        }
        removeConnection(raw);
      },
      [this, raw] { removeConnection(raw); });
  connections_[raw] = std::move(pending);
}

void Worker::startChain(size_t index, const config::FilterChainConfig* chain,
                        std::unique_ptr<network::Connection> connection,
                        std::string_view initial_data) {
  const config::ListenerConfig& listener = snapshot_->listeners[index];
  if (chain == nullptr) {
    connection->close(network::CloseType::kNoFlush);
    return;
  }
  network::Connection& conn = *connection;
  if (chain->tls) {
    conn.setTransportSocket(std::make_unique<tls::TlsSocket>(chain->tls, &stats_.tls()));
  }
  if (chain->is_http) {
    auto manager = std::make_unique<http::ConnectionManager>(
        *this, *chain, snapshot_, listener_stats_[index], std::move(connection),
        listener.buffer_limit_bytes);
    connections_[manager.get()] = std::move(manager);
    conn.injectReadData(initial_data);  // through TLS, when the chain terminates it
    return;
  }
  auto proxy = std::make_unique<tcp::TcpProxy>(*this, chain->tcp_cluster, std::move(connection),
                                               listener_stats_[index], listener.buffer_limit_bytes,
                                               chain->tcp_idle_timeout_ms, chain->direction,
                                               &chain->tcp_access_logs, chain->tls != nullptr);
  tcp::TcpProxy* raw = proxy.get();
  connections_[raw] = std::move(proxy);
  raw->setRbac(chain->tcp_rbac);
  raw->start(chain->tls ? std::string_view() : initial_data);
  if (chain->tls) conn.injectReadData(initial_data);
}

// A connection keeps the filter chain it was accepted on; when an update
// changes or removes that chain, the connection drains (HTTP/1: closes after
// the response in flight; HTTP/2: GOAWAY), so a new authorization policy or
// TLS setting reaches every client within one request, as Envoy's
// filter-chain drain does.
//
// A chain that changed only in its RBAC rules (an AuthorizationPolicy push)
// is not drained: its connections take on the new rules and end at once
// only the streams those deny, so a push that does not concern a long-lived
// WebSocket or gRPC stream leaves it alone.
void Worker::drainChangedConnections(const config::Snapshot& next) {
  std::set<std::string> kept;
  std::map<std::string, const config::FilterChainConfig*> by_rules_free_fingerprint;
  auto note = [&](const config::FilterChainConfig& chain) {
    kept.insert(chain.fingerprint);
    by_rules_free_fingerprint.emplace(chain.fingerprint_without_rbac, &chain);
  };
  for (const auto& listener : next.listeners) {
    for (const auto& chain : listener.filter_chains) note(chain);
    if (listener.default_filter_chain) note(*listener.default_filter_chain);
  }
  std::vector<context::ActiveConnection*> changed;
  for (auto& [raw, owned] : connections_) {
    const std::string* fingerprint = raw->chainFingerprint();
    if (fingerprint != nullptr && kept.count(*fingerprint) == 0) changed.push_back(raw);
  }
  for (auto* raw : changed) {
    if (!connections_.count(raw)) continue;  // an earlier one's end removed it
    auto same = by_rules_free_fingerprint.find(*raw->chainFingerprintWithoutRbac());
    if (same != by_rules_free_fingerprint.end() && raw->adoptAuthorization(*same->second)) {
      continue;
    }
    if (connections_.count(raw)) raw->startDrain();
  }
}

void Worker::removeConnection(context::ActiveConnection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  dispatcher_->deferDelete(std::move(it->second));
  connections_.erase(it);
  if (draining_) checkIdle();
}

void Worker::drain(std::function<void()> on_idle) {
  dispatcher_->post([this, on_idle = std::move(on_idle)] {
    draining_ = true;
    on_idle_ = on_idle;
    listeners_.clear();
    // startDrain may remove connections from the map; iterate over a copy.
    std::vector<context::ActiveConnection*> current;
    for (auto& [raw, owned] : connections_) current.push_back(raw);
    for (auto* raw : current) {
      if (connections_.count(raw)) raw->startDrain();
    }
    cluster_manager_->drainConnections();
    checkIdle();
  });
}

void Worker::checkIdle() {
  if (!connections_.empty() || !on_idle_) return;
  auto done = std::move(on_idle_);
  on_idle_ = nullptr;
  done();
}

void Worker::stop() { dispatcher_->exit(); }

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace weft::server
