#include "controlplane/config/kinds.h"

#include <algorithm>

#include "controlplane/config/kind_decoders.h"

namespace weft::control {

bool MeshKind::accepts(const std::string& version) const {
  return version == api_version ||
         std::find(also_accepted.begin(), also_accepted.end(), version) != also_accepted.end();
}

const std::vector<MeshKind>& meshKinds() {
  static const std::vector<MeshKind> kinds = {
      {"v1", "Service", "/api/v1/services", {}, decodeService},
      {"discovery.k8s.io/v1",
       "EndpointSlice",
       "/apis/discovery.k8s.io/v1/endpointslices",
       {},
       decodeEndpointSlice},
      {"gateway.networking.k8s.io/v1",
       "HTTPRoute",
       "/apis/gateway.networking.k8s.io/v1/httproutes",
       {"gateway.networking.k8s.io/v1beta1"},
       decodeHttpRoute},
      {"gateway.networking.k8s.io/v1",
       "GRPCRoute",
       "/apis/gateway.networking.k8s.io/v1/grpcroutes",
       {},
       decodeGrpcRoute},
      {"weft.dev/v1alpha1",
       "DestinationPolicy",
       "/apis/weft.dev/v1alpha1/destinationpolicies",
       {},
       decodeDestinationPolicy},
      {"weft.dev/v1alpha1",
       "AuthorizationPolicy",
       "/apis/weft.dev/v1alpha1/authorizationpolicies",
       {},
       decodeAuthorizationPolicy},
      {"weft.dev/v1alpha1",
       "MeshConfig",
       "/apis/weft.dev/v1alpha1/meshconfigs",
       {},
       decodeMeshConfig},
  };
  return kinds;
}

const MeshKind* findMeshKind(const std::string& api_version, const std::string& kind) {
  for (const auto& k : meshKinds()) {
    if (k.kind == kind && k.accepts(api_version)) return &k;
  }
  return nullptr;
}

}  // namespace weft::control
