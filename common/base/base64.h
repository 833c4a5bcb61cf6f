#pragma once

// Standard base64 (RFC 4648, padded), as Kubernetes uses for Secret data,
// kubeconfig certificate data and AdmissionReview patches.

#include <optional>
#include <string>
#include <string_view>

namespace weft::common {

std::string base64Encode(std::string_view data);
// nullopt when `text` is not base64.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace weft::common
