#pragma once

// Upstream HTTP connection pool for one host on one worker. Connections are
// kept warm between requests (HTTP/1 keep-alive); requests wait in a bounded
// queue while a connection is being opened.

#include <deque>
#include <list>
#include <memory>

#include "common/event/dispatcher.h"
#include "common/http/codec.h"
#include "common/http/http1_client.h"
#include "common/network/connection.h"
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

class HttpConnPool {
 public:
  class PendingRequest;

  // `cx_overflow` counts connections the max_connections limit held back.
  // `resources`: the cluster's counters, shared with every pool of the cluster.
  HttpConnPool(event::Dispatcher& dispatcher, config::ClusterConfigPtr cluster,
               std::shared_ptr<ClusterResources> resources, config::HostConfig host,
               prometheus::Counter* cx_overflow = nullptr,
               const stats::TlsStats* tls_stats = nullptr);
  ~HttpConnPool();

  // Calls callbacks.onPoolReady at once when an idle connection is ready, or
  // later; returns a handle for cancel() while the request waits (else nullptr).
  // `fresh`: do not use an idle connection (a retry after a stale one).
  PendingRequest* newStream(http::StreamDecoder& response_decoder, ConnPoolCallbacks& callbacks,
                            bool fresh = false);
  void cancel(PendingRequest* request);

  const config::HostConfig& host() const { return host_; }
  size_t connectionCount() const { return clients_.size(); }
  size_t idleCount() const;
  size_t pendingCount() const { return pending_.size(); }
  // Closes idle connections; busy ones close when their stream ends.
  void drainConnections();
  // A push kept this host: new settings (limits, timeouts) apply from now on.
  void updateCluster(config::ClusterConfigPtr cluster,
                     std::shared_ptr<ClusterResources> resources) {
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
  size_t connecting_ = 0;
  bool draining_ = false;
};

}  // namespace weft::upstream
