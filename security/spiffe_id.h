#pragma once

// SPIFFE identities of Kubernetes workloads: spiffe://<trust-domain>/ns/<ns>/sa/<sa>.
// Parsed strictly (SPIFFE ID spec): what a certificate, a CSR or a config
// says is either exactly this shape or refused with a reason.

#include <optional>
#include <string>
#include <string_view>

namespace weft::security {

struct SpiffeId {
  std::string trust_domain;
  std::string ns;
  std::string service_account;

  std::string uri() const;
  bool operator==(const SpiffeId&) const = default;
};

// Any SPIFFE ID (trust domain plus path); `error` says what is wrong.
bool isValidSpiffeUri(std::string_view uri, std::string* error);
// A workload identity; nullopt with `error` set when `uri` is not one.
std::optional<SpiffeId> parseWorkloadId(std::string_view uri, std::string* error);
// A trust domain alone ("cluster.local").
bool isValidTrustDomain(std::string_view trust_domain, std::string* error);

}  // namespace weft::security
