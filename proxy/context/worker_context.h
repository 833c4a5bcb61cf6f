#pragma once

// What every connection on a worker can reach: its dispatcher, the current
// snapshot, the worker's cluster manager and the shared stats store.

#include "common/event/dispatcher.h"
#include "proxy/config/snapshot.h"
#include "proxy/stats/istio_metrics.h"
#include "proxy/stats/stats.h"
#include "proxy/upstream/cluster_manager.h"

namespace weft::context {

class ActiveConnection {
 public:
  virtual ~ActiveConnection() = default;
  // Drain: finish what is in flight, take nothing new, then close.
  virtual void startDrain() = 0;
  // The configuration this connection was started with (its filter chain's
  // fingerprint), or nullptr: a new snapshot without it drains the connection.
  virtual const std::string* chainFingerprint() const { return nullptr; }
  // Its fingerprint_without_rbac (non-null when chainFingerprint() is).
  virtual const std::string* chainFingerprintWithoutRbac() const { return nullptr; }
  // The update's chain differs from this connection's only in its RBAC
  // rules: take them on, and end what they no longer allow. False: the
  // connection cannot, and drains instead.
  virtual bool adoptAuthorization(const config::FilterChainConfig&) { return false; }
};

class WorkerContext {
 public:
  virtual ~WorkerContext() = default;
  virtual event::Dispatcher& dispatcher() = 0;
  virtual upstream::ClusterManager& clusterManager() = 0;
  virtual stats::Store& stats() = 0;
  // Istio's standard metrics, recorded through this worker's cache.
  virtual stats::IstioRecorder& istio() = 0;
  virtual bool draining() const = 0;
  // The RDS route table in service now (nullptr if unknown): route updates
  // apply to the next request, even on connections opened before them.
  virtual std::shared_ptr<const config::RouteTable> currentRoutes(const std::string& rds_name) = 0;
  // A connection finished; the worker deletes it (deferred).
  virtual void removeConnection(ActiveConnection* connection) = 0;
};

}  // namespace weft::context
