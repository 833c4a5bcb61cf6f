#pragma once

#include <string>

namespace weft::ctl {

// A blocking HTTP/1.1 GET to host:port (loopback admin endpoints). Returns
// false with `error` set when the server cannot be reached.
bool httpGet(const std::string& host, int port, const std::string& path, int* status,
             std::string* body, std::string* error);

}  // namespace weft::ctl
