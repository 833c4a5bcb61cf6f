#include "common/base/error_list.h"

namespace weft::common {

std::string ErrorList::joined() const {
  std::string out;
  for (const auto& e : errors_) {
    if (!out.empty()) out += "\n";
    out += e;
  }
  return out;
}

}  // namespace weft::common
