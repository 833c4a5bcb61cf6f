#pragma once

// This proxy's workload certificate: a P-256 key made in memory (never
// written anywhere), a CSR for the proxy's SPIFFE identity sent to the mesh
// CA over TLS, the signed chain handed on as the local secret "default".
// Renewed at half its lifetime (jittered); while the CA is unreachable or
// slow the request is retried with backoff and the current certificate keeps
// serving. Each request has a deadline and no wait outlasts a quarter of the
// current certificate's remaining life, so a renewal lost on a busy CA is
// asked for again well before the certificate expires.

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "common/event/dispatcher.h"
#include "common/grpc/grpc_stream.h"
#include "common/network/address.h"
#include "common/tls/tls_context.h"

namespace weft::stats {
struct TlsStats;
}

namespace weft::sds {

struct WorkloadCertificateOptions {
  network::Address ca_address;
  std::string ca_authority;  // :authority, e.g. weft-control.weft-system.svc
  std::string ca_root_pem;   // verifies the CA's serving certificate
  std::string ca_identity;   // the CA's SPIFFE ID, pinned ("" = any under the root)
  std::string token_path;    // bearer token, re-read for every request (projected tokens rotate)
  std::string identity;      // the SPIFFE ID to ask for
  int64_t lifetime_s = 0;    // 0: the mesh default
};

class WorkloadCertificate {
 public:
  using OnIssued = std::function<void(const std::string& chain_pem, const std::string& key_pem)>;

  // nullptr with `error` when the options cannot work (unreadable root, ...).
  static std::unique_ptr<WorkloadCertificate> create(event::Dispatcher& dispatcher,
                                                     WorkloadCertificateOptions options,
                                                     const stats::TlsStats* stats,
                                                     OnIssued on_issued, std::string* error);
  void start();
  int64_t notAfter() const { return not_after_; }
  // The mesh's trust bundle as SDS delivers it (ROOTCA): the CA's serving
  // certificate is trusted if it chains to it or to --ca-root-cert, so a
  // root rotation does not cut proxies off from the CA.
  void setTrustBundle(const std::string& pem);

 private:
  WorkloadCertificate(event::Dispatcher& dispatcher, WorkloadCertificateOptions options,
                      const stats::TlsStats* stats, OnIssued on_issued);
  void request();
  void onMessage(std::string_view bytes);
  void onClose(int status, const std::string& message);
  void onDeadline();
  void retryLater(const std::string& why);
  // What is left of the current certificate's life, in ms (0: none yet).
  uint64_t lifeLeftMs() const;

  event::Dispatcher& dispatcher_;
  WorkloadCertificateOptions options_;
  const stats::TlsStats* stats_;
  OnIssued on_issued_;
  tls::TlsContextPtr ca_tls_;
  std::string bundle_pem_;
  std::unique_ptr<grpc::GrpcStream> stream_;
  event::Timer timer_;
  event::Timer deadline_;  // of the request in flight
  // Of the request in flight: a late answer to an abandoned one is dropped.
  uint64_t generation_ = 0;
  std::string key_pem_;  // of the request in flight
  std::string chain_pem_;
  int64_t not_after_ = 0;
  uint64_t backoff_ms_ = 1000;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace weft::sds
