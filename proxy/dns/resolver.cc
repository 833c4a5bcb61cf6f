#include "proxy/dns/resolver.h"

namespace weft::dns {

std::vector<std::string> applyFamily(LookupFamily family, std::vector<std::string> v4,
                                     std::vector<std::string> v6) {
  auto append = [](std::vector<std::string> first, const std::vector<std::string>& second) {
    first.insert(first.end(), second.begin(), second.end());
    return first;
  };
  switch (family) {
    case LookupFamily::kV4Only:
      return v4;
    case LookupFamily::kV6Only:
      return v6;
    case LookupFamily::kAuto:
      return v6.empty() ? v4 : v6;
    case LookupFamily::kV4Preferred:
      return v4.empty() ? v6 : v4;
    case LookupFamily::kAll:
      return append(std::move(v4), v6);
  }
  return {};
}

}  // namespace weft::dns
