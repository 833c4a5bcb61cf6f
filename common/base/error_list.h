#pragma once

// "path: problem" messages collected while checking configuration, so one
// pass reports every problem, each naming where it is.

#include <string>
#include <vector>

namespace weft::common {

class ErrorList {
 public:
  void add(const std::string& path, const std::string& problem) {
    errors_.push_back(path + ": " + problem);
  }
  bool empty() const { return errors_.empty(); }
  const std::vector<std::string>& all() const { return errors_; }
  std::string joined() const;

 private:
  std::vector<std::string> errors_;
};

}  // namespace weft::common
