#pragma once

// A mirrored copy of a request (Envoy's shadow, the Gateway API's
// RequestMirror): sent to a host of the mirror cluster with the host part
// of ":authority" suffixed "-shadow" (as Envoy marks it), fed the original's body as it
// arrives, its response read and thrown away. Nothing it does reaches the
// original request: not its failures, not its slowness (it never pauses the
// client: past kMaxShadowBody bytes waiting it gives up), not its timeout.
// The worker's cluster manager keeps it until it is over, so it may outlive
// the stream that began it; if that stream ends before its request did
// (the client reset it), the shadow is abandoned rather than sent short.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/event/dispatcher.h"
#include "common/http/codec.h"
#include "proxy/router/upstream_request.h"
#include "proxy/upstream/cluster_manager.h"

namespace weft::router {

class ShadowRequest : public upstream::DetachedRequest, private UpstreamRequestCallbacks {
 public:
  // The request so far: its headers (after the route's rewrites), the body
  // bytes already received, and whether it is complete. `peer_metadata`
  // (outbound in a mesh) goes with it to a TLS cluster, naming the mirror's
  // own Service, as the router does for the original. nullptr when the
  // mirror cluster is unknown, has no healthy host or is at its breaker's
  // max_requests (counted in its stats, as Envoy does).
  static std::shared_ptr<ShadowRequest> start(
      event::Dispatcher& dispatcher, upstream::ClusterManager& cm, const std::string& cluster,
      const http::HeaderMap& request, const std::string* peer_metadata, std::string_view body,
      bool end_stream, uint64_t timeout_ms);
  ShadowRequest(event::Dispatcher& dispatcher, upstream::ClusterManager& cm);
  ~ShadowRequest() override;

  void decodeData(std::string_view data, bool end_stream);
  void decodeTrailers(const http::HeaderMap& trailers);
  // The original stream is gone before its request was whole.
  void abandon() { finish(); }

 private:
  void onUpstreamReady(UpstreamRequest& attempt, http::StreamEncoder& encoder) override;
  void onUpstreamFailure(UpstreamRequest& attempt, upstream::PoolFailureReason reason) override;
  void onUpstreamHeaders(UpstreamRequest& attempt, http::HeaderMap&& headers,
                         bool end_stream) override;
  void onUpstreamData(UpstreamRequest& attempt, std::string_view data, bool end_stream) override;
  void onUpstreamTrailers(UpstreamRequest& attempt, http::HeaderMap&& trailers) override;
  void onUpstreamReset(UpstreamRequest& attempt, http::StreamResetReason reason) override;
  void onUpstreamWatermark(bool) override {}

  void flush();
  // Over (answered, failed, timed out or abandoned): lets go of everything
  // and asks the cluster manager to release it.
  void finish();

  event::Dispatcher& dispatcher_;
  upstream::ClusterManager& cm_;
  std::shared_ptr<upstream::WorkerCluster> cluster_;
  std::shared_ptr<upstream::ClusterResources> resources_;
  upstream::WorkerHostPtr host_;
  http::HeaderMap headers_;
  std::string body_;  // received, not yet sent
  bool request_complete_ = false;
  bool has_trailers_ = false;
  http::HeaderMap trailers_;
  http::StreamEncoder* encoder_ = nullptr;
  std::unique_ptr<UpstreamRequest> upstream_;
  std::unique_ptr<event::Timer> timeout_;
  bool finished_ = false;
};

}  // namespace weft::router
