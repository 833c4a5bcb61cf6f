#include "proxy/workload/workload_metadata.h"

#include <gtest/gtest.h>

#include "mesh/node_metadata.h"

namespace weft::workload {
namespace {

envoy::config::core::v3::Node node(const std::string& id,
                                   std::initializer_list<std::pair<const char*, const char*>> kv) {
  envoy::config::core::v3::Node n;
  n.set_id(id);
  for (const auto& [key, value] : kv) {
    (*n.mutable_metadata()->mutable_fields())[key].set_string_value(value);
  }
  return n;
}

TEST(WorkloadMetadataTest, TheNodeSaysWhoTheWorkloadIs) {
  namespace keys = mesh::node_metadata;
  auto local = localMetadataFromNode(
      node("reviews-v2-5d4f-abcde.shop", {{keys::kWorkloadName, "reviews-v2"},
                                          {keys::kApp, "reviews"},
                                          {keys::kVersion, "v2"},
                                          {keys::kServiceAccount, "bookinfo-reviews"}}),
      "cluster.local");
  EXPECT_EQ(local.workload, "reviews-v2");
  EXPECT_EQ(local.namespace_name, "shop");
  EXPECT_EQ(local.canonical_service, "reviews");  // the app, when no canonical label
  EXPECT_EQ(local.canonical_revision, "v2");
  EXPECT_EQ(local.cluster, "Kubernetes");
  EXPECT_EQ(local.principal, "spiffe://cluster.local/ns/shop/sa/bookinfo-reviews");
}

TEST(WorkloadMetadataTest, IstioDefaultsWhenTheNodeSaysNothing) {
  auto local = localMetadataFromNode(node("echo-0.default", {}), "td");
  EXPECT_EQ(local.workload, "echo-0");
  EXPECT_EQ(local.canonical_service, "echo-0");
  EXPECT_EQ(local.canonical_revision, "latest");
  EXPECT_EQ(local.app, "");
  EXPECT_EQ(local.principal, "spiffe://td/ns/default/sa/default");
}

TEST(WorkloadMetadataTest, RoundTripsWithTheService) {
  WorkloadMetadata m{"web", "shop", "web",        "v1",
                     "web", "v1",   "Kubernetes", "spiffe://cluster.local/ns/shop/sa/web"};
  std::string header = encodePeerMetadata(m, "reviews.shop.svc.cluster.local");
  WorkloadMetadata parsed;
  std::string service, error;
  ASSERT_TRUE(parsePeerMetadata(header, &parsed, &service, &error)) << error;
  EXPECT_EQ(parsed, m);
  EXPECT_EQ(service, "reviews.shop.svc.cluster.local");
}

TEST(WorkloadMetadataTest, HostileValuesFailTheWholeHeader) {
  WorkloadMetadata parsed;
  std::string error;
  EXPECT_FALSE(parsePeerMetadata("w=web,n=shop,a=x y", &parsed, nullptr, &error));
  EXPECT_NE(error.find("'a'"), std::string::npos) << error;
  EXPECT_FALSE(parsePeerMetadata("w=web,n=" + std::string(300, 'a'), &parsed, nullptr, &error));
  EXPECT_FALSE(parsePeerMetadata("w=web,nonsense", &parsed, nullptr, &error));
  EXPECT_FALSE(parsePeerMetadata("a=web", &parsed, nullptr, &error));  // no workload
  EXPECT_NE(error.find("required"), std::string::npos);
  // A newer peer's extra key is skipped.
  ASSERT_TRUE(parsePeerMetadata("w=web,n=shop,zz=1", &parsed, nullptr, &error)) << error;
  EXPECT_EQ(parsed.workload, "web");
}

TEST(WorkloadMetadataTest, AValueThePeerWouldRefuseIsDroppedAtTheSource) {
  auto local = localMetadataFromNode(node("p.ns", {{mesh::node_metadata::kVersion, "v 2"}}),
                                     "cluster.local");
  EXPECT_EQ(local.version, "");
  WorkloadMetadata parsed;
  std::string error;
  EXPECT_TRUE(parsePeerMetadata(encodePeerMetadata(local), &parsed, nullptr, &error)) << error;
}

TEST(WorkloadMetadataTest, TheServiceOfAnOutboundCluster) {
  EXPECT_EQ(serviceOfCluster("outbound|80|v2|reviews.shop.svc.cluster.local"),
            "reviews.shop.svc.cluster.local");
  EXPECT_EQ(serviceOfCluster("outbound|80||echo.shop.svc.cluster.local"),
            "echo.shop.svc.cluster.local");
  EXPECT_EQ(serviceOfCluster("inbound|8080||"), "");
  EXPECT_EQ(serviceOfCluster("backend"), "");
}

}  // namespace
}  // namespace weft::workload
