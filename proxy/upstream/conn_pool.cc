#include "proxy/upstream/conn_pool.h"

#include <algorithm>

#include "common/base/logging.h"
#include "common/http/http2_codec.h"
#include "common/tls/tls_socket.h"

namespace weft::upstream {

namespace {

// Holds one unit of a cluster-wide count for as long as it lives. It keeps
// the counters it took from alive, so a config update in between (a new
// ClusterResources) never unbalances them.
class CountedIn {
 public:
  CountedIn(std::shared_ptr<ClusterResources> resources, std::atomic<uint32_t> ClusterResources::*c)
      : resources_(std::move(resources)), counter_(c) {
    ((*resources_).*counter_).fetch_add(1, std::memory_order_relaxed);
  }
  ~CountedIn() { ((*resources_).*counter_).fetch_sub(1, std::memory_order_relaxed); }
  CountedIn(const CountedIn&) = delete;
  CountedIn& operator=(const CountedIn&) = delete;

 private:
  std::shared_ptr<ClusterResources> resources_;
  std::atomic<uint32_t> ClusterResources::*counter_;
};

}  // namespace

class HttpConnPool::PendingRequest : public ConnPool::Pending {
 public:
  PendingRequest(http::StreamDecoder& decoder, ConnPoolCallbacks& callbacks,
                 std::shared_ptr<ClusterResources> resources)
      : decoder(decoder),
        callbacks(callbacks),
        counted_(std::move(resources), &ClusterResources::pending_requests) {}
  http::StreamDecoder& decoder;
  ConnPoolCallbacks& callbacks;

 private:
  CountedIn counted_;
};

class HttpConnPool::ActiveClient : public network::ConnectionCallbacks,
                                   public http::ClientConnectionCallbacks {
 public:
  ActiveClient(HttpConnPool& pool, std::unique_ptr<network::Connection> connection)
      : pool_(pool),
        counted_(pool.resources_, &ClusterResources::connections),
        connection_(std::move(connection)),
        connect_timer_(pool.dispatcher_, [this] { onConnectTimeout(); }),
        idle_timer_(pool.dispatcher_, [this] { close(); }) {
    connection_->setCallbacks(this);
    if (pool.cluster_->tls) {
      // kConnected then means "handshake done, peer identity verified".
      connection_->setTransportSocket(
          std::make_unique<tls::TlsSocket>(pool.cluster_->tls, pool.tls_stats_));
    }
    if (pool.cluster_->protocol == config::UpstreamProtocol::kHttp2) {
      http::Http2Settings settings;
      settings.allow_extended_connect = pool.cluster_->allow_connect;
      codec_ = std::make_unique<http::Http2ClientConnection>(*connection_, *this, settings);
    } else {
      codec_ = std::make_unique<http::Http1ClientConnection>(*connection_, *this);
    }
    connect_timer_.enableMs(pool.cluster_->connect_timeout_ms);
  }

  // network::ConnectionCallbacks
  void onData(std::string_view data, bool end_stream) override {
    if (end_stream) {
      codec_->onRemoteEof();  // only tunnels enable half-close
      return;
    }
    codec_->dispatch(data);
  }
  void onEvent(network::ConnectionEvent event) override {
    switch (event) {
      case network::ConnectionEvent::kConnected:
        connect_timer_.disable();
        connected_ = true;
        pool_.onClientConnected(this);
        return;
      case network::ConnectionEvent::kConnectFailed:
        connect_timer_.disable();
        pool_.onClientFailed(this, PoolFailureReason::kConnectFailure);
        return;
      case network::ConnectionEvent::kRemoteClose:
      case network::ConnectionEvent::kLocalClose:
        connect_timer_.disable();
        idle_timer_.disable();
        if (!connected_) {
          pool_.onClientFailed(this, PoolFailureReason::kConnectFailure);
          return;
        }
        codec_->onConnectionClosed(http::StreamResetReason::kConnectionTermination);
        pool_.removeClient(this);
        return;
    }
  }
  void onAboveWriteBufferHighWatermark() override { codec_->onAboveWriteBufferHighWatermark(); }
  void onBelowWriteBufferLowWatermark() override { codec_->onBelowWriteBufferLowWatermark(); }

  // http::ClientConnectionCallbacks
  void onStreamComplete() override {
    ++requests_served_;
    pool_.onStreamComplete(this);
  }
  void onProtocolError() override { close(); }

  void onConnectTimeout() {
    LOG_DEBUG("connect to %s timed out", pool_.host_.address.toString().c_str());
    connection_->setCallbacks(nullptr);
    connection_->close(network::CloseType::kNoFlush);
    pool_.onClientFailed(this, PoolFailureReason::kTimeout);
  }

  void close() { connection_->close(network::CloseType::kNoFlush); }
  bool reusable() const {
    uint32_t max = pool_.cluster_->max_requests_per_connection;
    return connected_ && !codec_->goingAway() && (max == 0 || requests_served_ < max);
  }
  bool idle() const { return connected_ && codec_->activeStreams() == 0; }
  // Can take one more stream now (HTTP/2: under the peer's stream limit).
  bool ready() const { return connected_ && codec_->available() && reusable(); }

  HttpConnPool& pool_;
  CountedIn counted_;
  std::unique_ptr<network::Connection> connection_;
  std::unique_ptr<http::ClientConnection> codec_;
  event::Timer connect_timer_;
  event::Timer idle_timer_;
  bool connected_ = false;
  uint32_t requests_served_ = 0;
};

ConnPoolFactory httpConnPoolFactory() {
  return [](event::Dispatcher& dispatcher, config::ClusterConfigPtr cluster,
            std::shared_ptr<ClusterResources> resources, const config::HostConfig& host,
            prometheus::Counter* cx_overflow, const stats::TlsStats* tls_stats) {
    return std::make_unique<HttpConnPool>(dispatcher, std::move(cluster), std::move(resources),
                                          host, cx_overflow, tls_stats);
  };
}

HttpConnPool::HttpConnPool(event::Dispatcher& dispatcher, config::ClusterConfigPtr cluster,
                           std::shared_ptr<ClusterResources> resources, config::HostConfig host,
                           prometheus::Counter* cx_overflow, const stats::TlsStats* tls_stats,
                           network::ClientConnectionFactory& connector)
    : dispatcher_(dispatcher),
      cluster_(std::move(cluster)),
      resources_(std::move(resources)),
      host_(std::move(host)),
      cx_overflow_(cx_overflow),
      tls_stats_(tls_stats),
      connector_(connector) {}

HttpConnPool::~HttpConnPool() {
  for (auto* request : pending_) delete request;
  for (auto& client : clients_) client->connection_->setCallbacks(nullptr);
}

size_t HttpConnPool::idleCount() const {
  return std::count_if(clients_.begin(), clients_.end(), [](const auto& c) { return c->idle(); });
}

ConnPool::Pending* HttpConnPool::newStream(http::StreamDecoder& response_decoder,
                                           ConnPoolCallbacks& callbacks, bool fresh) {
  for (auto& client : clients_) {
    if (client->ready() && !(fresh && client->requests_served_ > 0)) {
      client->idle_timer_.disable();
      http::StreamEncoder& encoder = client->codec_->newStream(response_decoder);
      callbacks.onPoolReady(encoder, client->requests_served_ > 0);
      return nullptr;
    }
  }
  // Cluster-wide: every worker's pools for every host count.
  if (resources_->pending_requests.load(std::memory_order_relaxed) >=
      cluster_->max_pending_requests) {
    callbacks.onPoolFailure(PoolFailureReason::kOverflow);
    return nullptr;
  }
  auto* request = new PendingRequest(response_decoder, callbacks, resources_);
  pending_.push_back(request);
  processPending();
  return request;
}

void HttpConnPool::cancel(Pending* handle) {
  auto* request = static_cast<PendingRequest*>(handle);
  auto it = std::find(pending_.begin(), pending_.end(), request);
  if (it != pending_.end()) {
    pending_.erase(it);
    delete request;
  }
}

void HttpConnPool::createClient() {
  ++connecting_;
  clients_.push_back(
      std::make_unique<ActiveClient>(*this, connector_.connect(dispatcher_, host_.address)));
}

void HttpConnPool::onClientConnected(ActiveClient* client) {
  --connecting_;
  // HTTP/1 takes one waiting request; HTTP/2 as many as the peer allows.
  while (!pending_.empty() && client->ready()) {
    PendingRequest* request = pending_.front();
    pending_.pop_front();
    attach(client, request);
  }
  if (client->idle()) client->idle_timer_.enableMs(cluster_->idle_timeout_ms);
}

void HttpConnPool::attach(ActiveClient* client, PendingRequest* request) {
  http::StreamEncoder& encoder = client->codec_->newStream(request->decoder);
  ConnPoolCallbacks& callbacks = request->callbacks;
  delete request;
  callbacks.onPoolReady(encoder, client->requests_served_ > 0);
}

void HttpConnPool::onClientFailed(ActiveClient* client, PoolFailureReason reason) {
  --connecting_;
  // HTTP/1: a failed connect fails the oldest waiting request (one per
  // attempt). HTTP/2: every waiting request was counting on this connection.
  size_t to_fail = cluster_->protocol == config::UpstreamProtocol::kHttp2 ? pending_.size() : 1;
  for (size_t i = 0; i < to_fail && !pending_.empty(); ++i) {
    PendingRequest* request = pending_.front();
    pending_.pop_front();
    ConnPoolCallbacks& callbacks = request->callbacks;
    delete request;
    callbacks.onPoolFailure(reason);
  }
  removeClient(client);
  processPending();
}

void HttpConnPool::onStreamComplete(ActiveClient* client) {
  if (!client->reusable() || draining_) {
    // Other HTTP/2 streams may still run on it: close once it is empty.
    if (client->idle()) client->close();
    return;
  }
  while (!pending_.empty() && client->ready()) {
    PendingRequest* request = pending_.front();
    pending_.pop_front();
    attach(client, request);
  }
  if (client->idle()) client->idle_timer_.enableMs(cluster_->idle_timeout_ms);
}

void HttpConnPool::removeClient(ActiveClient* client) {
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (it->get() == client) {
      client->connection_->setCallbacks(nullptr);
      dispatcher_.deferDelete(std::move(*it));
      clients_.erase(it);
      return;
    }
  }
}

bool HttpConnPool::mayOpenConnection() {
  if (resources_->connections.load(std::memory_order_relaxed) < cluster_->max_connections) {
    return true;
  }
  if (cx_overflow_ != nullptr) stats::inc(cx_overflow_);
  // Over the cluster-wide limit because of other pools: a pool with no
  // connection at all still opens one, or its waiting requests could only
  // time out (Envoy does the same).
  return clients_.empty();
}

void HttpConnPool::processPending() {
  if (cluster_->protocol == config::UpstreamProtocol::kHttp2) {
    // One multiplexed connection carries the burst: open one at a time.
    if (connecting_ == 0 && !pending_.empty() && mayOpenConnection()) createClient();
    return;
  }
  // HTTP/1: one new connection per waiting request beyond those opening.
  while (connecting_ < pending_.size() && mayOpenConnection()) createClient();
}

void HttpConnPool::drainConnections() {
  draining_ = true;
  // Closing removes the client from clients_: collect first.
  std::vector<ActiveClient*> idle;
  for (auto& client : clients_) {
    if (client->idle()) idle.push_back(client.get());
  }
  for (auto* client : idle) client->close();
}

}  // namespace weft::upstream
