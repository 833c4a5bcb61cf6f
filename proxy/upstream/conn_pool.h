#pragma once

// Upstream HTTP connection pool for one host on one worker. Connections are
// kept warm between requests (HTTP/1 keep-alive); requests wait in a bounded
// queue while a connection is being opened.

#include <deque>
#include <functional>
#include <list>
#include <memory>

#include "common/event/dispatcher.h"
#include "common/http/codec.h"
#include "common/http/http1_client.h"
#include "common/network/connection.h"
#include "common/network/tcp_connection.h"
#include "proxy/config/cluster_config.h"
#include "proxy/stats/stats.h"
#include "proxy/upstream/cluster_runtime.h"

namespace weft::upstream {

enum class PoolFailureReason { kConnectFailure, kTimeout, kOverflow };

class ConnPoolCallbacks {
 public:
  virtual ~ConnPoolCallbacks() = default;
  // `reused`: the connection carried requests before (it may have gone stale).
  virtual void onPoolReady(http::StreamEncoder& encoder, bool reused) = 0;
  virtual void onPoolFailure(PoolFailureReason reason) = 0;
};

// A host's pool as its users see it: the router's attempts ask it for a
// stream; the cluster manager keeps it across pushes and drains it. Apart
// from HttpConnPool so the router can be tested against a fake.
class ConnPool {
 public:
  // A request waiting for a connection, until the pool calls back or it is
  // cancelled.
  class Pending {
   public:
    virtual ~Pending() = default;
  };

  virtual ~ConnPool() = default;
  // Calls callbacks.onPoolReady at once when an idle connection is ready, or
  // later; returns a handle for cancel() while the request waits (else nullptr).
  // `fresh`: do not use an idle connection (a retry after a stale one).
  virtual Pending* newStream(http::StreamDecoder& response_decoder, ConnPoolCallbacks& callbacks,
                             bool fresh = false) = 0;
  virtual void cancel(Pending* request) = 0;
  // Closes idle connections; busy ones close when their stream ends.
  virtual void drainConnections() = 0;
  // A push kept this host: new settings (limits, timeouts) apply from now on.
  virtual void updateCluster(config::ClusterConfigPtr cluster,
                             std::shared_ptr<ClusterResources> resources) = 0;
};

// Makes the pool of a new host (the cluster manager's; tests give their own).
using ConnPoolFactory = std::function<std::unique_ptr<ConnPool>(
    event::Dispatcher& dispatcher, config::ClusterConfigPtr cluster,
    std::shared_ptr<ClusterResources> resources, const config::HostConfig& host,
    prometheus::Counter* cx_overflow, const stats::TlsStats* tls_stats)>;

// The real pool: HTTP/1.1 or HTTP/2 connections to the host, TLS when the
// cluster has it.
ConnPoolFactory httpConnPoolFactory();

class HttpConnPool : public ConnPool {
 public:
  class PendingRequest;

  // `cx_overflow` counts connections the max_connections limit held back.
  // `resources`: the cluster's counters, shared with every pool of the cluster.
  // `connector` opens the connections (TCP, or a test's in-memory ones).
  HttpConnPool(event::Dispatcher& dispatcher, config::ClusterConfigPtr cluster,
               std::shared_ptr<ClusterResources> resources, config::HostConfig host,
               prometheus::Counter* cx_overflow = nullptr,
               const stats::TlsStats* tls_stats = nullptr,
               network::ClientConnectionFactory& connector = network::tcpClientConnectionFactory());
  ~HttpConnPool() override;

  Pending* newStream(http::StreamDecoder& response_decoder, ConnPoolCallbacks& callbacks,
                     bool fresh = false) override;
  void cancel(Pending* request) override;

  const config::HostConfig& host() const { return host_; }
  size_t connectionCount() const { return clients_.size(); }
  size_t idleCount() const;
  size_t pendingCount() const { return pending_.size(); }
  void drainConnections() override;
  void updateCluster(config::ClusterConfigPtr cluster,
                     std::shared_ptr<ClusterResources> resources) override {
    cluster_ = std::move(cluster);
    resources_ = std::move(resources);
  }

 private:
  class ActiveClient;
  friend class ActiveClient;

  void createClient();
  void onClientConnected(ActiveClient* client);
  void onClientFailed(ActiveClient* client, PoolFailureReason reason);
  void onStreamComplete(ActiveClient* client);
  void removeClient(ActiveClient* client);
  void attach(ActiveClient* client, PendingRequest* request);
  void processPending();
  bool mayOpenConnection();

  event::Dispatcher& dispatcher_;
  config::ClusterConfigPtr cluster_;
  std::shared_ptr<ClusterResources> resources_;
  config::HostConfig host_;
  std::list<std::unique_ptr<ActiveClient>> clients_;
  std::deque<PendingRequest*> pending_;
  prometheus::Counter* cx_overflow_;
  const stats::TlsStats* tls_stats_;
  network::ClientConnectionFactory& connector_;
  size_t connecting_ = 0;
  bool draining_ = false;
};

}  // namespace weft::upstream
