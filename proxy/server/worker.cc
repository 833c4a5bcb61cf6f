#include "proxy/server/worker.h"

#include <unistd.h>

#include "proxy/common/logging.h"
#include "proxy/http/connection_manager.h"
#include "proxy/tcp/tcp_proxy.h"

namespace weft::server {

Worker::Worker(int index, stats::Store& stats)
    : index_(index),
      stats_(stats),
      dispatcher_(std::make_unique<event::Dispatcher>()),
      cluster_manager_(std::make_unique<upstream::ClusterManager>(*dispatcher_, stats)) {}

Worker::~Worker() {
  join();
  // Tear down on this (the joining) thread once the loop no longer runs.
  listeners_.clear();
  connections_.clear();
  cluster_manager_.reset();
  dispatcher_.reset();
}

void Worker::start() {
  thread_ = std::thread([this] { dispatcher_->run(); });
}

void Worker::apply(config::SnapshotPtr snapshot, std::vector<int> listener_fds) {
  dispatcher_->post([this, snapshot = std::move(snapshot), fds = std::move(listener_fds)] {
    snapshot_ = snapshot;
    cluster_manager_->update(*snapshot_);
    listener_stats_.clear();
    listeners_.clear();
    for (size_t i = 0; i < snapshot_->listeners.size(); ++i) {
      listener_stats_.push_back(stats_.listener(snapshot_->listeners[i].name));
      if (i >= fds.size() || fds[i] < 0) {
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

void Worker::onAccept(size_t index, std::unique_ptr<network::Connection> connection) {
  if (draining_) return;  // closes the connection
  const config::ListenerConfig& listener = snapshot_->listeners[index];
  std::unique_ptr<ActiveConnection> active;
  if (listener.is_http) {
    active = std::make_unique<http::ConnectionManager>(*this, listener, snapshot_,
                                                       listener_stats_[index], std::move(connection));
  } else {
    active = std::make_unique<tcp::TcpProxy>(*this, listener.tcp_cluster, std::move(connection),
                                             listener_stats_[index], listener.buffer_limit_bytes);
  }
  ActiveConnection* raw = active.get();
  connections_[raw] = std::move(active);
}

void Worker::removeConnection(ActiveConnection* connection) {
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
    std::vector<ActiveConnection*> current;
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
