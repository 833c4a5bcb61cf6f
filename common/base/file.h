#pragma once

// Whole-file reads for key, certificate and token files.

#include <string>

namespace weft::common {

// False when `path` cannot be opened.
bool readFile(const std::string& path, std::string* out);

}  // namespace weft::common
