#include "proxy/sds/workload_certificate.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

#include "common/base/logging.h"
#include "proxy/stats/stats.h"
#include "security/x509.h"
#include "weft/security/v1/certificate.pb.h"

namespace weft::sds {

namespace {
constexpr char kMethod[] = "/weft.security.v1.CertificateService/CreateCertificate";
constexpr uint64_t kMaxBackoffMs = 30000;
// A CA that has not answered by then is asked again (the answer may be lost:
// a connection cut mid-request, a CA restarted).
constexpr uint64_t kRequestDeadlineMs = 10000;
constexpr uint64_t kMinWaitMs = 200;
}  // namespace

std::unique_ptr<WorkloadCertificate> WorkloadCertificate::create(event::Dispatcher& dispatcher,
                                                                 WorkloadCertificateOptions options,
                                                                 const stats::TlsStats* stats,
                                                                 OnIssued on_issued,
                                                                 std::string* error) {
  std::unique_ptr<WorkloadCertificate> self(
      new WorkloadCertificate(dispatcher, std::move(options), stats, std::move(on_issued)));
  tls::TlsContextConfig config;
  config.trusted_ca_pem = self->options_.ca_root_pem;
  if (!self->options_.ca_identity.empty()) {
    config.match_sans.push_back({tls::SanMatcher::Kind::kExact, self->options_.ca_identity});
  }
  config.alpn = {"h2"};
  self->ca_tls_ = tls::TlsContext::create(std::move(config), error);
  if (!self->ca_tls_) {
    *error = "--ca-root-cert: " + *error;
    return nullptr;
  }
  return self;
}

WorkloadCertificate::WorkloadCertificate(event::Dispatcher& dispatcher,
                                         WorkloadCertificateOptions options,
                                         const stats::TlsStats* stats, OnIssued on_issued)
    : dispatcher_(dispatcher),
      options_(std::move(options)),
      stats_(stats),
      on_issued_(std::move(on_issued)),
      timer_(dispatcher, [this] { request(); }),
      deadline_(dispatcher, [this] { onDeadline(); }) {}

void WorkloadCertificate::start() { request(); }

void WorkloadCertificate::setTrustBundle(const std::string& pem) {
  if (pem == bundle_pem_) return;
  tls::TlsContextConfig config = ca_tls_->config();
  config.trusted_ca_pem = options_.ca_root_pem + pem;
  std::string error;
  tls::TlsContextPtr next = tls::TlsContext::create(std::move(config), &error);
  if (!next) {
    LOG_WARN("workload certificate: ignoring a trust bundle that does not load: %s", error.c_str());
    return;
  }
  bundle_pem_ = pem;
  ca_tls_ = std::move(next);
}

void WorkloadCertificate::request() {
  if (stream_) dispatcher_.deferDelete(std::move(stream_));
  std::string token;
  {
    std::ifstream in(options_.token_path);
    std::ostringstream data;
    data << in.rdbuf();
    token = data.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  }
  if (token.empty()) {
    retryLater("no token in " + options_.token_path);
    return;
  }
  // A new key for every certificate: a renewal also rotates the key.
  security::EvpPkeyPtr key = security::generateP256Key();
  std::string error;
  std::string csr = security::makeCsrPem(key.get(), options_.identity, &error);
  if (csr.empty()) {
    retryLater(error);
    return;
  }
  key_pem_ = security::privateKeyToPem(key.get());
  chain_pem_.clear();
  weft::security::v1::CreateCertificateRequest request;
  request.set_csr(csr);
  request.set_validity_duration(options_.lifetime_s);
  uint64_t generation = ++generation_;
  stream_ = std::make_unique<grpc::GrpcStream>(
      dispatcher_, options_.ca_address, options_.ca_authority, kMethod,
      [this, generation](std::string_view bytes) {
        if (generation == generation_) onMessage(bytes);
      },
      [this, generation](int status, const std::string& message) {
        if (generation == generation_) onClose(status, message);
      });
  stream_->setTls(ca_tls_, stats_);
  stream_->addMetadata("authorization", "Bearer " + token);
  stream_->send(request.SerializeAsString());
  stream_->closeSend();
  stream_->start();
  uint64_t deadline = kRequestDeadlineMs;
  if (uint64_t left = lifeLeftMs(); left > 0) {
    deadline = std::clamp<uint64_t>(left / 4, kMinWaitMs, kRequestDeadlineMs);
  }
  deadline_.enableMs(deadline);
}

uint64_t WorkloadCertificate::lifeLeftMs() const {
  int64_t left = not_after_ - static_cast<int64_t>(std::time(nullptr));
  return not_after_ > 0 && left > 0 ? static_cast<uint64_t>(left) * 1000 : 0;
}

void WorkloadCertificate::onDeadline() {
  ++generation_;  // whatever the abandoned request still receives is dropped
  if (stream_) dispatcher_.deferDelete(std::move(stream_));
  retryLater("no answer from the CA in time");
}

void WorkloadCertificate::onMessage(std::string_view bytes) {
  weft::security::v1::CreateCertificateResponse response;
  if (!response.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  for (const auto& pem : response.cert_chain()) chain_pem_ += pem;
}

void WorkloadCertificate::onClose(int status, const std::string& message) {
  deadline_.disable();
  if (status != 0 || chain_pem_.empty()) {
    retryLater("CA answered grpc-status " + std::to_string(status) + ": " + message);
    return;
  }
  std::string error;
  auto chain = security::parseCertificates(chain_pem_, &error);
  if (chain.empty()) {
    retryLater("CA sent an unreadable chain: " + error);
    return;
  }
  int64_t lifetime = security::secondsUntilExpiry(chain[0].get());
  not_after_ = security::notAfterUnix(chain[0].get());
  if (stats_ != nullptr)
    stats::gaugeSet(stats_->certificate_expiry, static_cast<double>(not_after_));
  LOG_INFO("workload certificate for %s issued, expires in %lld s", options_.identity.c_str(),
           static_cast<long long>(lifetime));
  on_issued_(chain_pem_, key_pem_);
  backoff_ms_ = 1000;
  // Renew at half life, jittered +-10% so a fleet started together spreads out.
  double share = 0.45 + static_cast<double>(rng_() % 1000) / 10000.0;
  timer_.enableMs(static_cast<uint64_t>(std::max<int64_t>(1, lifetime) * 1000 * share));
}

void WorkloadCertificate::retryLater(const std::string& why) {
  uint64_t delay = backoff_ms_ / 2 + rng_() % (backoff_ms_ / 2 + 1);
  // Never wait out the certificate in service: at most a quarter of its rest.
  if (uint64_t left = lifeLeftMs(); left > 0) {
    delay = std::min(delay, std::max(kMinWaitMs, left / 4));
  }
  LOG_WARN("workload certificate for %s: %s; retrying in %llu ms%s", options_.identity.c_str(),
           why.c_str(), static_cast<unsigned long long>(delay),
           not_after_ > 0 ? " (the current certificate keeps serving)" : "");
  timer_.enableMs(delay);
  backoff_ms_ = std::min(backoff_ms_ * 2, kMaxBackoffMs);
}

}  // namespace weft::sds
