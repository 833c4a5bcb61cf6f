#include "controlplane/ca/authenticator.h"

#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace weft::control::ca {

void TokenFileAuthenticator::reloadIfChanged() {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) {
    tokens_.clear();
    loaded_mtime_ns_ = -1;
    return;
  }
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (mtime == loaded_mtime_ns_) return;
  loaded_mtime_ns_ = mtime;
  tokens_.clear();
  std::ifstream in(path_);
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream fields(line);
    std::string token;
    Caller caller;
    if (fields >> token >> caller.ns >> caller.service_account) tokens_[token] = caller;
  }
}

std::optional<Caller> TokenFileAuthenticator::authenticate(const std::string& token,
                                                           std::string* error) {
  std::lock_guard<std::mutex> lock(mu_);
  reloadIfChanged();
  auto it = tokens_.find(token);
  if (token.empty() || it == tokens_.end()) {
    *error = "unknown workload token";
    return std::nullopt;
  }
  return it->second;
}

std::optional<Caller> TokenReviewAuthenticator::authenticate(const std::string& token,
                                                             std::string* error) {
  nlohmann::json review = {{"apiVersion", "authentication.k8s.io/v1"},
                           {"kind", "TokenReview"},
                           {"spec", {{"token", token}, {"audiences", {audience_}}}}};
  http::BlockingHttpClient http;
  if (!http.request(api_, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", review.dump(), 10,
                    error)) {
    *error = "TokenReview: " + *error;
    return std::nullopt;
  }
  std::string body = http.readAll();
  if (http.status() != 201 && http.status() != 200) {
    *error = "TokenReview answered HTTP " + std::to_string(http.status());
    return std::nullopt;
  }
  auto result = nlohmann::json::parse(body, nullptr, false);
  const auto& status = result.is_object() ? result.value("status", nlohmann::json::object())
                                          : nlohmann::json::object();
  if (!status.value("authenticated", false)) {
    *error = "token not authenticated: " + status.value("error", std::string("no reason given"));
    return std::nullopt;
  }
  if (status.contains("audiences")) {
    bool ours = false;
    for (const auto& a : status["audiences"]) ours |= a.is_string() && a == audience_;
    if (!ours) {
      *error = "token is not for audience '" + audience_ + "'";
      return std::nullopt;
    }
  }
  std::string user = status.value("user", nlohmann::json::object()).value("username", "");
  const std::string prefix = "system:serviceaccount:";
  size_t colon = user.find(':', prefix.size());
  if (user.compare(0, prefix.size(), prefix) != 0 || colon == std::string::npos) {
    *error = "'" + user + "' is not a service account";
    return std::nullopt;
  }
  return Caller{user.substr(prefix.size(), colon - prefix.size()), user.substr(colon + 1)};
}

}  // namespace weft::control::ca
