#pragma once

// Who is asking the CA for a certificate: the namespace and service account
// a bearer token proves. In a cluster the token is a projected
// service-account token checked with the TokenReview API; locally, a token
// from a file the operator (or the demo) writes.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/http/blocking_client.h"

namespace weft::control::ca {

struct Caller {
  std::string ns;
  std::string service_account;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The identity `token` proves; nullopt with `error` saying why not.
  virtual std::optional<Caller> authenticate(const std::string& token, std::string* error) = 0;
};

// Lines "TOKEN NAMESPACE SERVICE_ACCOUNT" ('#' starts a comment), re-read
// when the file changes.
class TokenFileAuthenticator : public Authenticator {
 public:
  explicit TokenFileAuthenticator(std::string path) : path_(std::move(path)) {}
  std::optional<Caller> authenticate(const std::string& token, std::string* error) override;

 private:
  void reloadIfChanged();

  std::string path_;
  std::mutex mu_;
  int64_t loaded_mtime_ns_ = -1;
  std::unordered_map<std::string, Caller> tokens_;
};

// POSTs an authentication.k8s.io/v1 TokenReview for `audience` and accepts
// "system:serviceaccount:NS:SA" users.
class TokenReviewAuthenticator : public Authenticator {
 public:
  TokenReviewAuthenticator(http::HttpEndpoint api, std::string audience)
      : api_(std::move(api)), audience_(std::move(audience)) {}
  std::optional<Caller> authenticate(const std::string& token, std::string* error) override;

 private:
  http::HttpEndpoint api_;
  std::string audience_;
};

}  // namespace weft::control::ca
