#include "proxy/stream_info/response_flags.h"

namespace weft::stream_info {

const char* responseFlagName(int flag) {
  static const char* const kNames[kResponseFlagCount] = {"UH",   "UF",  "UO", "NR", "URX", "UT",
                                                         "LR",   "UR",  "UC", "DC", "DI",  "FI",
                                                         "UAEX", "UPE", "SI", "NC", "DT"};
  return flag >= 0 && flag < kResponseFlagCount ? kNames[flag] : "";
}

std::string responseFlagsString(uint32_t flags) {
  std::string out;
  for (int i = 0; i < kResponseFlagCount; ++i) {
    if ((flags & (1u << i)) == 0) continue;
    if (!out.empty()) out += ',';
    out += responseFlagName(i);
  }
  return out.empty() ? "-" : out;
}

}  // namespace weft::stream_info
