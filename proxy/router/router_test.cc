#include "proxy/router/router.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "common/event/testing/run_until.h"
#include "proxy/stream_info/response_flags.h"
#include "proxy/upstream/cluster_runtime.h"

// The Router against fake connection pools: no sockets, every upstream event
// delivered by the test, the real cluster manager, runtime registry and
// dispatcher (timers run on its loop).

namespace weft::router {
namespace {

using stream_info::flagBit;
using stream_info::ResponseFlag;

// What one attempt asked of a host's pool, and the stream the test plays.
struct Attempt : http::StreamEncoder {
  std::string host;
  http::StreamDecoder* decoder = nullptr;
  upstream::ConnPoolCallbacks* callbacks = nullptr;
  std::unique_ptr<upstream::ConnPool::Pending> pending =
      std::make_unique<upstream::ConnPool::Pending>();
  bool cancelled = false;  // while waiting for a connection
  bool reset = false;      // the stream, once it had one
  bool released = false;   // the decoder let go of it
  http::HeaderMap headers;
  std::string body;
  bool request_ended = false;

  void ready() { callbacks->onPoolReady(*this, /*reused=*/false); }
  void respond(const char* status, const char* body_text = "") {
    http::HeaderMap response;
    response.add(":status", status);
    bool headers_only = *body_text == '\0';
    decoder->decodeHeaders(std::move(response), headers_only);
    if (!headers_only) decoder->decodeData(body_text, true);
  }

  // http::StreamEncoder
  void encodeHeaders(const http::HeaderMap& h, bool end_stream) override {
    headers = h;
    request_ended = end_stream;
  }
  void encodeData(std::string_view data, bool end_stream) override {
    body.append(data);
    request_ended = end_stream;
  }
  void encodeTrailers(const http::HeaderMap&) override { request_ended = true; }
  void resetStream(http::StreamResetReason) override { reset = true; }
  void readDisable(bool) override {}
  void releaseDecoder(http::StreamDecoder&) override { released = true; }
};

class FakeConnPool : public upstream::ConnPool {
 public:
  FakeConnPool(std::string host, std::vector<std::unique_ptr<Attempt>>& attempts)
      : host_(std::move(host)), attempts_(attempts) {}

  Pending* newStream(http::StreamDecoder& decoder, upstream::ConnPoolCallbacks& callbacks,
                     bool) override {
    auto attempt = std::make_unique<Attempt>();
    attempt->host = host_;
    attempt->decoder = &decoder;
    attempt->callbacks = &callbacks;
    Pending* handle = attempt->pending.get();
    attempts_.push_back(std::move(attempt));
    return handle;
  }
  void cancel(Pending* handle) override {
    for (auto& a : attempts_) {
      if (a->pending.get() == handle) a->cancelled = true;
    }
  }
  void drainConnections() override {}
  void updateCluster(config::ClusterConfigPtr,
                     std::shared_ptr<upstream::ClusterResources>) override {}

 private:
  std::string host_;
  std::vector<std::unique_ptr<Attempt>>& attempts_;
};

struct LocalReply {
  int code = 0;
  uint32_t flags = 0;
  bool overflow = false;
};

class RecordingCallbacks : public RouterCallbacks {
 public:
  void onResponseHeaders(http::HeaderMap& headers, bool end_stream) override {
    status = std::string(headers.status());
    ended = end_stream;
  }
  void onResponseData(std::string_view data, bool end_stream) override {
    body.append(data);
    ended = end_stream;
  }
  void onResponseTrailers(http::HeaderMap&) override { ended = true; }
  void onLocalReply(int code, std::string_view, uint32_t flags, bool overflow,
                    std::optional<int>) override {
    local = LocalReply{code, flags, overflow};
  }
  void onResponseReset(http::StreamResetReason, uint32_t flags) override { reset_flags = flags; }
  void onTunnelEstablished() override {}
  void setRequestReadDisabled(bool) override {}
  void addResponseFlags(uint32_t f) override { flags |= f; }
  void onActivity() override {}

  std::string status;
  std::string body;
  bool ended = false;
  std::optional<LocalReply> local;
  std::optional<uint32_t> reset_flags;
  uint32_t flags = 0;
};

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    auto cluster = std::make_shared<config::ClusterConfig>();
    cluster->name = "web";
    for (const char* ip : {"127.0.0.1", "127.0.0.2"}) {
      config::HostConfig h;
      h.address = *network::Address::fromIpPort(ip, 8080);
      cluster->hosts.push_back(h);
    }
    cluster->max_requests = 1;
    cluster_ = cluster;
    auto snapshot = std::make_shared<config::Snapshot>();
    snapshot->clusters["web"] = cluster;
    manager_.update(*snapshot, *registry_.update(*snapshot));
    snapshot_ = snapshot;
    routes_ =
        std::make_shared<config::RouteTable>("routes", std::vector<config::VirtualHost>{},
                                             config::HeaderMutation{}, config::HeaderMutation{});
    route_.cluster = "web";
    route_.timeout_ms = 5000;
    request_.add(":method", "POST");
    request_.add(":path", "/orders");
    request_.add(":authority", "web");
  }

  std::unique_ptr<Router> router(RecordingCallbacks& callbacks, http::HeaderMap& request,
                                 bool end_stream = false) {
    return std::make_unique<Router>(callbacks, dispatcher_, manager_, routes_, route_, request,
                                    end_stream, /*grpc=*/false);
  }

  void runUntil(const std::function<bool()>& done, uint64_t max_ms = 2000) {
    event::testing::runUntil(dispatcher_, done, max_ms);
  }

  event::Dispatcher dispatcher_;
  stats::Store stats_;
  upstream::ClusterRuntimeRegistry registry_{stats_};
  std::vector<std::unique_ptr<Attempt>> attempts_;
  upstream::WorkerClusterManager manager_{
      dispatcher_, stats_,
      [this](event::Dispatcher&, config::ClusterConfigPtr,
             std::shared_ptr<upstream::ClusterResources>, const config::HostConfig& host,
             prometheus::Counter*, const stats::TlsStats*) {
        return std::make_unique<FakeConnPool>(host.address.toString(), attempts_);
      }};
  std::shared_ptr<config::ClusterConfig> cluster_;
  std::shared_ptr<const config::Snapshot> snapshot_;
  std::shared_ptr<const config::RouteTable> routes_;
  config::RouteEntry route_;
  http::HeaderMap request_;
};

TEST_F(RouterTest, A5xxIsRetriedOnANewAttemptThatReplaysTheWholeBody) {
  route_.retry.retry_on = config::RetryPolicy::k5xx;
  route_.retry.num_retries = 2;
  route_.retry.backoff_base_ms = 1;
  route_.retry.backoff_max_ms = 1;
  RecordingCallbacks callbacks;
  auto r = router(callbacks, request_);
  r->start();
  ASSERT_EQ(attempts_.size(), 1u);
  attempts_[0]->ready();
  r->decodeData("order-", false);
  r->decodeData("42", true);
  EXPECT_EQ(attempts_[0]->body, "order-42");
  attempts_[0]->respond("503");
  EXPECT_TRUE(callbacks.status.empty()) << "a retried 503 never reaches the client";
  runUntil([&] { return attempts_.size() == 2; });
  ASSERT_EQ(attempts_.size(), 2u) << "the backoff timer starts the second attempt";
  attempts_[1]->ready();
  EXPECT_EQ(attempts_[1]->body, "order-42");
  EXPECT_TRUE(attempts_[1]->request_ended);
  EXPECT_EQ(attempts_[1]->headers.get("x-weft-attempt-count") != nullptr
                ? *attempts_[1]->headers.get("x-weft-attempt-count")
                : "",
            "2");
  attempts_[1]->respond("200", "accepted");
  EXPECT_EQ(callbacks.status, "200");
  EXPECT_EQ(callbacks.body, "accepted");
  EXPECT_TRUE(callbacks.ended);
  EXPECT_FALSE(callbacks.local);
}

TEST_F(RouterTest, RetriesLeftExhaustedForwardTheLastResponseWithURX) {
  route_.retry.retry_on = config::RetryPolicy::k5xx;
  route_.retry.num_retries = 1;
  route_.retry.backoff_base_ms = 1;
  route_.retry.backoff_max_ms = 1;
  RecordingCallbacks callbacks;
  auto r = router(callbacks, request_, /*end_stream=*/true);
  r->start();
  attempts_[0]->ready();
  attempts_[0]->respond("503");
  runUntil([&] { return attempts_.size() == 2; });
  ASSERT_EQ(attempts_.size(), 2u);
  attempts_[1]->ready();
  attempts_[1]->respond("503", "still down");
  EXPECT_EQ(callbacks.status, "503");
  EXPECT_EQ(callbacks.body, "still down");
  EXPECT_NE(callbacks.flags & flagBit(ResponseFlag::kUpstreamRetryLimitExceeded), 0u);
}

TEST_F(RouterTest, TheBreakerRefusesARequestPastMaxRequestsAndFreesItsSlotAfter) {
  RecordingCallbacks first_callbacks, second_callbacks, third_callbacks;
  http::HeaderMap first_request = request_, second_request = request_, third_request = request_;
  auto first = router(first_callbacks, first_request, true);
  first->start();
  auto second = router(second_callbacks, second_request, true);
  second->start();
  ASSERT_TRUE(second_callbacks.local);
  EXPECT_EQ(second_callbacks.local->code, 503);
  EXPECT_TRUE(second_callbacks.local->overflow);
  EXPECT_EQ(second_callbacks.local->flags, flagBit(ResponseFlag::kUpstreamOverflow));
  EXPECT_EQ(attempts_.size(), 1u) << "an overflowed request reaches no pool";
  attempts_[0]->ready();
  attempts_[0]->respond("200");
  first.reset();
  auto third = router(third_callbacks, third_request, true);
  third->start();
  EXPECT_FALSE(third_callbacks.local) << "the finished request gave its slot back";
  EXPECT_EQ(attempts_.size(), 2u);
}

TEST_F(RouterTest, TheRouteTimeoutAnswers504AndAbandonsTheWaitingAttempt) {
  route_.timeout_ms = 20;
  RecordingCallbacks callbacks;
  auto r = router(callbacks, request_, true);
  r->start();
  ASSERT_EQ(attempts_.size(), 1u);
  runUntil([&] { return callbacks.local.has_value(); });
  ASSERT_TRUE(callbacks.local);
  EXPECT_EQ(callbacks.local->code, 504);
  EXPECT_EQ(callbacks.local->flags, flagBit(ResponseFlag::kUpstreamRequestTimeout));
  EXPECT_TRUE(attempts_[0]->cancelled) << "the pool no longer holds the request";
}

TEST_F(RouterTest, AResetAfterTheResponseBeganIsNotRetriedButResetsTheClient) {
  route_.retry.retry_on = config::RetryPolicy::kReset | config::RetryPolicy::k5xx;
  route_.retry.num_retries = 3;
  RecordingCallbacks callbacks;
  auto r = router(callbacks, request_, true);
  r->start();
  attempts_[0]->ready();
  http::HeaderMap response;
  response.add(":status", "200");
  attempts_[0]->decoder->decodeHeaders(std::move(response), false);
  attempts_[0]->decoder->decodeData("par", false);
  attempts_[0]->decoder->onResetStream(http::StreamResetReason::kRemoteReset);
  runUntil([] { return false; }, 20);
  EXPECT_EQ(attempts_.size(), 1u) << "nothing is retried once the client saw a response";
  EXPECT_EQ(callbacks.status, "200");
  EXPECT_TRUE(callbacks.reset_flags.has_value());
}

}  // namespace
}  // namespace weft::router
