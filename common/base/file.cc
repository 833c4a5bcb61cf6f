#include "common/base/file.h"

#include <fstream>
#include <sstream>

namespace weft::common {

bool readFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream data;
  data << in.rdbuf();
  *out = data.str();
  return true;
}

}  // namespace weft::common
