#pragma once

// A worker thread: its own dispatcher, its own listening sockets (bound with
// SO_REUSEPORT), its own upstream pools. It shares nothing mutable with other
// workers; the main thread reaches it only through Dispatcher::post().

#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "common/network/listener.h"
#include "proxy/context/worker_context.h"

namespace weft::server {

class Worker : public context::WorkerContext {
 public:
  Worker(int index, stats::Store& stats, stats::IstioMetrics& istio);
  ~Worker() override;

  void start();
  // Thread-safe. Installs `snapshot` with the clusters' shared `runtime`;
  // `listener_fds[i]` is this worker's socket for snapshot->listeners[i].
  void apply(config::SnapshotPtr snapshot, upstream::RuntimeViewsPtr runtime,
             std::vector<int> listener_fds);
  // Thread-safe. Stops accepting, drains connections, then calls `on_idle`
  // (on this worker's thread) once none remain.
  void drain(std::function<void()> on_idle);
  // Thread-safe. Ends the thread (after drain, or at once on timeout).
  void stop();
  void join();

  // WorkerContext
  event::Dispatcher& dispatcher() override { return *dispatcher_; }
  upstream::ClusterManager& clusterManager() override { return *cluster_manager_; }
  stats::Store& stats() override { return stats_; }
  stats::IstioRecorder& istio() override { return istio_; }
  bool draining() const override { return draining_; }
  void removeConnection(context::ActiveConnection* connection) override;
  std::shared_ptr<const config::RouteTable> currentRoutes(const std::string& rds_name) override {
    auto it = snapshot_->route_tables.find(rds_name);
    return it == snapshot_->route_tables.end() ? nullptr : it->second;
  }

 private:
  void onAccept(size_t listener_index, std::unique_ptr<network::Connection> connection);
  // Starts the chain's handler (HTTP connection manager or TCP proxy),
  // replaying `initial_data` read while inspecting the protocol.
  void startChain(size_t listener_index, const config::FilterChainConfig* chain,
                  std::unique_ptr<network::Connection> connection, std::string_view initial_data);
  void checkIdle();
  void drainChangedConnections(const config::Snapshot& next);

  int index_;
  stats::Store& stats_;
  stats::IstioRecorder istio_;
  std::unique_ptr<event::Dispatcher> dispatcher_;
  std::unique_ptr<upstream::WorkerClusterManager> cluster_manager_;
  config::SnapshotPtr snapshot_;
  std::vector<stats::ListenerStats> listener_stats_;
  std::vector<std::unique_ptr<network::Listener>> listeners_;
  std::map<context::ActiveConnection*, std::unique_ptr<context::ActiveConnection>> connections_;
  bool draining_ = false;
  std::function<void()> on_idle_;
  std::thread thread_;
};

}  // namespace weft::server
