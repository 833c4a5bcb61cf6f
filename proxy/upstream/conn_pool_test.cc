#include "proxy/upstream/conn_pool.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/event/testing/run_until.h"
#include "common/network/testing/fake_connection.h"

// HttpConnPool over in-memory connections: the test plays the network (when
// a connect succeeds, what the upstream answers) and the real HTTP/1 codec
// and dispatcher timers run on top.

namespace weft::upstream {
namespace {

using network::testing::FakeConnection;
using network::testing::FakeConnectionFactory;

// One request's view of the pool: what it was told and the response.
struct Request : ConnPoolCallbacks, http::StreamDecoder {
  http::StreamEncoder* encoder = nullptr;
  bool reused = false;
  std::optional<PoolFailureReason> failure;
  std::string status;
  bool complete = false;

  void send() {
    http::HeaderMap headers;
    headers.add(":method", "GET");
    headers.add(":path", "/");
    headers.add(":authority", "app");
    encoder->encodeHeaders(headers, /*end_stream=*/true);
  }

  // ConnPoolCallbacks
  void onPoolReady(http::StreamEncoder& e, bool r) override {
    encoder = &e;
    reused = r;
    send();
  }
  void onPoolFailure(PoolFailureReason reason) override { failure = reason; }
  // http::StreamDecoder
  void decodeHeaders(http::HeaderMap&& headers, bool end_stream) override {
    if (const std::string* value = headers.get(":status")) status = *value;
    complete = end_stream;
  }
  void decodeData(std::string_view, bool end_stream) override { complete = end_stream; }
  void decodeTrailers(http::HeaderMap&&) override { complete = true; }
  void onResetStream(http::StreamResetReason) override {}
};

constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";

class ConnPoolTest : public ::testing::Test {
 protected:
  std::unique_ptr<HttpConnPool> makePool(std::function<void(config::ClusterConfig&)> edit = {}) {
    auto cluster = std::make_shared<config::ClusterConfig>();
    cluster->name = "app";
    if (edit) edit(*cluster);
    host_.address = *network::Address::fromIpPort("10.0.0.1", 8080);
    return std::make_unique<HttpConnPool>(dispatcher_, cluster, resources_, host_, &overflow_,
                                          nullptr, connector_);
  }

  void runUntil(const std::function<bool()>& done) { event::testing::runUntil(dispatcher_, done); }

  event::Dispatcher dispatcher_;
  std::shared_ptr<ClusterResources> resources_ = std::make_shared<ClusterResources>();
  prometheus::Counter overflow_;
  FakeConnectionFactory connector_;
  config::HostConfig host_;
};

TEST_F(ConnPoolTest, WaitsForTheConnectThenSendsAndReusesTheConnection) {
  auto pool = makePool();
  Request first;
  EXPECT_NE(pool->newStream(first, first), nullptr);  // waits: nothing is connected yet
  ASSERT_EQ(connector_.opened.size(), 1u);
  EXPECT_EQ(connector_.opened[0]->remoteAddress().toString(), "10.0.0.1:8080");
  EXPECT_EQ(pool->pendingCount(), 1u);
  EXPECT_EQ(resources_->pending_requests.load(), 1u);
  EXPECT_EQ(resources_->connections.load(), 1u);

  FakeConnection& connection = *connector_.opened[0];
  connection.raiseConnected();
  ASSERT_NE(first.encoder, nullptr);
  EXPECT_FALSE(first.reused);
  EXPECT_EQ(pool->pendingCount(), 0u);
  EXPECT_EQ(resources_->pending_requests.load(), 0u);
  EXPECT_NE(connection.takeWritten().find("GET / HTTP/1.1\r\n"), std::string::npos);

  connection.deliver(kOk);
  EXPECT_TRUE(first.complete);
  EXPECT_EQ(first.status, "200");
  EXPECT_EQ(pool->idleCount(), 1u);

  // The second request goes out at once on the same, now idle connection.
  Request second;
  EXPECT_EQ(pool->newStream(second, second), nullptr);
  ASSERT_NE(second.encoder, nullptr);
  EXPECT_TRUE(second.reused);
  EXPECT_EQ(connector_.opened.size(), 1u);
  EXPECT_NE(connection.takeWritten().find("GET / HTTP/1.1\r\n"), std::string::npos);

  // `fresh` (a retry after a stale connection) does not take the used one.
  connection.deliver(kOk);
  Request retry;
  pool->newStream(retry, retry, /*fresh=*/true);
  EXPECT_EQ(retry.encoder, nullptr);
  EXPECT_EQ(connector_.opened.size(), 2u);
}

TEST_F(ConnPoolTest, ConnectTimeoutFailsTheWaitingRequestAndFreesTheConnection) {
  auto pool = makePool([](config::ClusterConfig& c) { c.connect_timeout_ms = 20; });
  Request request;
  pool->newStream(request, request);
  ASSERT_EQ(connector_.opened.size(), 1u);
  EXPECT_FALSE(connector_.opened[0]->closed());
  runUntil([&] { return request.failure.has_value(); });
  ASSERT_TRUE(request.failure.has_value());
  EXPECT_EQ(*request.failure, PoolFailureReason::kTimeout);
  EXPECT_EQ(pool->connectionCount(), 0u);
  EXPECT_EQ(pool->pendingCount(), 0u);
  EXPECT_EQ(resources_->pending_requests.load(), 0u);
  runUntil([&] { return resources_->connections.load() == 0; });
  EXPECT_EQ(resources_->connections.load(), 0u);  // the deferred delete released it
}

TEST_F(ConnPoolTest, ConnectFailureFailsOneHttp1RequestPerAttempt) {
  auto pool = makePool();
  Request a, b;
  pool->newStream(a, a);
  pool->newStream(b, b);
  ASSERT_EQ(connector_.opened.size(), 2u);  // HTTP/1: a connection per waiting request
  connector_.opened[0]->raiseConnectFailed();
  ASSERT_TRUE(a.failure.has_value());
  EXPECT_EQ(*a.failure, PoolFailureReason::kConnectFailure);
  EXPECT_FALSE(b.failure.has_value());  // still waiting on its own connect
  connector_.opened[1]->raiseConnected();
  EXPECT_NE(b.encoder, nullptr);
}

TEST_F(ConnPoolTest, Http2ConnectFailureFailsEveryRequestWaitingOnTheOneConnection) {
  auto pool =
      makePool([](config::ClusterConfig& c) { c.protocol = config::UpstreamProtocol::kHttp2; });
  Request a, b, c;
  pool->newStream(a, a);
  pool->newStream(b, b);
  pool->newStream(c, c);
  EXPECT_EQ(connector_.opened.size(), 1u);  // one multiplexed connection for the burst
  connector_.opened[0]->raiseConnectFailed();
  for (Request* r : {&a, &b, &c}) {
    ASSERT_TRUE(r->failure.has_value());
    EXPECT_EQ(*r->failure, PoolFailureReason::kConnectFailure);
  }
  EXPECT_EQ(resources_->pending_requests.load(), 0u);
}

TEST_F(ConnPoolTest, MaxConnectionsHoldsRequestsBackAndCountsTheOverflow) {
  auto pool = makePool([](config::ClusterConfig& c) { c.max_connections = 1; });
  Request a, b;
  pool->newStream(a, a);
  pool->newStream(b, b);
  EXPECT_EQ(connector_.opened.size(), 1u);  // the second waits instead of connecting
  EXPECT_EQ(pool->pendingCount(), 2u);
  EXPECT_GE(overflow_.Value(), 1.0);

  FakeConnection& connection = *connector_.opened[0];
  connection.raiseConnected();
  EXPECT_NE(a.encoder, nullptr);
  EXPECT_EQ(b.encoder, nullptr);
  connection.deliver(kOk);  // a's response frees the connection for b
  EXPECT_TRUE(a.complete);
  ASSERT_NE(b.encoder, nullptr);
  EXPECT_TRUE(b.reused);
  EXPECT_EQ(connector_.opened.size(), 1u);
}

TEST_F(ConnPoolTest, PendingOverflowFailsAtOnce) {
  auto pool = makePool([](config::ClusterConfig& c) {
    c.max_connections = 1;
    c.max_pending_requests = 1;
  });
  Request a, b;
  EXPECT_NE(pool->newStream(a, a), nullptr);
  EXPECT_EQ(pool->newStream(b, b), nullptr);
  ASSERT_TRUE(b.failure.has_value());
  EXPECT_EQ(*b.failure, PoolFailureReason::kOverflow);
  EXPECT_FALSE(a.failure.has_value());
  EXPECT_EQ(pool->pendingCount(), 1u);
}

TEST_F(ConnPoolTest, CancelledRequestIsNotServedAndReleasesItsPendingSlot) {
  auto pool = makePool();
  Request request;
  ConnPool::Pending* handle = pool->newStream(request, request);
  ASSERT_NE(handle, nullptr);
  pool->cancel(handle);
  EXPECT_EQ(resources_->pending_requests.load(), 0u);
  connector_.opened[0]->raiseConnected();
  EXPECT_EQ(request.encoder, nullptr);
  EXPECT_EQ(pool->idleCount(), 1u);  // kept warm for the next request
}

TEST_F(ConnPoolTest, DrainClosesIdleConnectionsAndBusyOnesAfterTheirResponse) {
  auto pool = makePool();
  Request busy, idle;
  pool->newStream(busy, busy);
  pool->newStream(idle, idle);
  ASSERT_EQ(connector_.opened.size(), 2u);
  FakeConnection& busy_connection = *connector_.opened[0];
  FakeConnection& idle_connection = *connector_.opened[1];
  busy_connection.raiseConnected();
  idle_connection.raiseConnected();
  idle_connection.deliver(kOk);
  ASSERT_TRUE(idle.complete);

  pool->drainConnections();
  EXPECT_TRUE(idle_connection.closed());
  EXPECT_FALSE(busy_connection.closed());  // its response is still coming
  busy_connection.deliver(kOk);
  EXPECT_TRUE(busy.complete);
  EXPECT_TRUE(busy_connection.closed());  // not kept for reuse once drained
  EXPECT_EQ(pool->connectionCount(), 0u);
}

TEST_F(ConnPoolTest, MaxRequestsPerConnectionOpensANewConnectionAfterTheLimit) {
  auto pool = makePool([](config::ClusterConfig& c) { c.max_requests_per_connection = 1; });
  Request first, second;
  pool->newStream(first, first);
  FakeConnection& connection = *connector_.opened[0];
  connection.raiseConnected();
  connection.deliver(kOk);
  EXPECT_TRUE(connection.closed());
  pool->newStream(second, second);
  EXPECT_EQ(connector_.opened.size(), 2u);
}

TEST_F(ConnPoolTest, UpstreamCloseOfAnIdleConnectionRemovesIt) {
  auto pool = makePool();
  Request request;
  pool->newStream(request, request);
  FakeConnection& connection = *connector_.opened[0];
  connection.raiseConnected();
  connection.deliver(kOk);
  EXPECT_EQ(pool->idleCount(), 1u);
  connection.raiseRemoteClose();
  EXPECT_EQ(pool->connectionCount(), 0u);
  Request next;
  pool->newStream(next, next);  // a new connection, not the closed one
  EXPECT_EQ(connector_.opened.size(), 2u);
}

}  // namespace
}  // namespace weft::upstream
