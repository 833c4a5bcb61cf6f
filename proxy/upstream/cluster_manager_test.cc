#include "proxy/upstream/cluster_manager.h"

#include <gtest/gtest.h>

#include "proxy/upstream/cluster_runtime.h"

namespace weft::upstream {
namespace {

config::HostConfig host(const char* ip, uint16_t port = 8080) {
  config::HostConfig h;
  h.address = *network::Address::fromIpPort(ip, port);
  return h;
}

std::shared_ptr<const config::Snapshot> snapshotWith(
    std::map<std::string, std::vector<config::HostConfig>> clusters, uint32_t max_requests = 1024) {
  auto snapshot = std::make_shared<config::Snapshot>();
  for (auto& [name, hosts] : clusters) {
    auto c = std::make_shared<config::ClusterConfig>();
    c->name = name;
    c->hosts = hosts;
    c->max_requests = max_requests;
    c->outlier.enabled = true;
    c->outlier.consecutive_5xx = 2;
    c->outlier.max_ejection_percent = 50;
    snapshot->clusters[name] = c;
  }
  return snapshot;
}

// The proxy's two owners of runtime state, as the server wires them: the
// registry on the main thread, one cluster manager per worker.
class ClusterManagerTest : public ::testing::Test {
 protected:
  void apply(const std::shared_ptr<const config::Snapshot>& snapshot) {
    manager_.update(*snapshot, *registry_.update(*snapshot));
  }

  event::Dispatcher dispatcher_;
  stats::Store stats_;
  ClusterRuntimeRegistry registry_{stats_};
  WorkerClusterManager manager_{dispatcher_, stats_};
};

TEST_F(ClusterManagerTest, AClusterAndItsHostsAreKeptAcrossAnUpdate) {
  apply(snapshotWith({{"web", {host("127.0.0.1"), host("127.0.0.2")}}}));
  auto cluster = manager_.get("web");
  auto kept = cluster->hosts()[1];
  auto resources = cluster->resources();
  apply(snapshotWith({{"web", {host("127.0.0.2"), host("127.0.0.3")}}, {"other", {}}}));
  EXPECT_EQ(manager_.get("web"), cluster);
  EXPECT_EQ(cluster->hosts()[0], kept) << "a host that stays keeps its pool and LB state";
  EXPECT_FALSE(kept->removed());
  EXPECT_EQ(cluster->resources(), resources) << "breaker counters are not reset by a push";
}

TEST_F(ClusterManagerTest, AHostRemovedUnderAStreamStaysValidAndIsNotPickedAgain) {
  apply(snapshotWith({{"web", {host("127.0.0.1"), host("127.0.0.2")}}}));
  auto cluster = manager_.get("web");
  WorkerHostPtr in_flight = cluster->hosts()[0];  // what a stream holds
  cluster->onRequestStart(*in_flight);
  apply(snapshotWith({{"web", {host("127.0.0.2")}}}));
  EXPECT_TRUE(in_flight->removed());
  // The stream ends after the push: its host and pool are still there.
  EXPECT_EQ(static_cast<HttpConnPool&>(in_flight->pool()).connectionCount(), 0u);
  cluster->onRequestEnd(*in_flight);
  cluster->reportResult(*in_flight, WorkerCluster::Result::k5xx);
  // A retry after the update picks from the cluster as it is now.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(cluster->pickHost(manager_.rng())->address().toString(), "127.0.0.2:8080");
  }
}

TEST_F(ClusterManagerTest, ARemovedClusterKeepsItsStreamsAndOffersNoHost) {
  apply(snapshotWith({{"web", {host("127.0.0.1")}}}));
  auto cluster = manager_.get("web");  // held by a stream
  apply(snapshotWith({{"other", {host("127.0.0.9")}}}));
  EXPECT_EQ(manager_.get("web"), nullptr);
  EXPECT_TRUE(cluster->removed());
  EXPECT_EQ(cluster->pickHost(manager_.rng()), nullptr);
}

TEST_F(ClusterManagerTest, AnEjectionSurvivesAnUnrelatedPush) {
  apply(snapshotWith({{"web", {host("127.0.0.1"), host("127.0.0.2")}}}));
  auto cluster = manager_.get("web");
  auto bad = cluster->hosts()[1];
  cluster->reportResult(*bad, WorkerCluster::Result::k5xx);
  cluster->reportResult(*bad, WorkerCluster::Result::k5xx);
  ASSERT_GT(bad->outlier().ejected_until_ms.load(), config::steadyNowMs());
  apply(
      snapshotWith({{"web", {host("127.0.0.1"), host("127.0.0.2")}}, {"new", {host("10.0.0.1")}}}));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(cluster->pickHost(manager_.rng())->address().toString(), "127.0.0.1:8080");
  }
}

TEST_F(ClusterManagerTest, ANewThresholdAppliesToTheLiveCount) {
  apply(snapshotWith({{"web", {host("127.0.0.1")}}}, 10));
  auto cluster = manager_.get("web");
  cluster->resources()->active_requests += 5;  // five requests in flight
  apply(snapshotWith({{"web", {host("127.0.0.1")}}}, 4));
  EXPECT_EQ(cluster->config().max_requests, 4u);
  EXPECT_EQ(cluster->resources()->active_requests.load(), 5u)
      << "the live count stays: the lower limit refuses new requests at once";
  cluster->resources()->active_requests -= 5;
}

TEST(ClusterRuntimeRegistryTest, HostStateFollowsTheAddressNotTheIndex) {
  stats::Store stats;
  ClusterRuntimeRegistry registry(stats);
  auto first = registry.update(*snapshotWith({{"web", {host("127.0.0.1"), host("127.0.0.2")}}}));
  auto second_host = first->at("web").hosts[1];
  auto second = registry.update(*snapshotWith({{"web", {host("127.0.0.2"), host("127.0.0.1")}}}));
  EXPECT_EQ(second->at("web").hosts[0], second_host);
  EXPECT_EQ(second->at("web").resources, first->at("web").resources);
  auto third = registry.update(*snapshotWith({{"web", {host("127.0.0.3")}}}));
  EXPECT_NE(third->at("web").hosts[0], second_host);
}

}  // namespace
}  // namespace weft::upstream
