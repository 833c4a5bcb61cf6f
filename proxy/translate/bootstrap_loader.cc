#include "proxy/translate/bootstrap_loader.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <sstream>

#include "common/yaml/yaml_json.h"

namespace weft::translate {

bool parseBootstrap(const std::string& text, const std::string& origin,
                    envoy::config::bootstrap::v3::Bootstrap* bootstrap, std::string* error) {
  std::string json;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    json = text;
  } else {
    std::string yaml_error;
    if (!common::yamlToJson(text, &json, &yaml_error)) {
      *error = origin + ": " + yaml_error;
      return false;
    }
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, bootstrap, options);
  if (!status.ok()) {
    *error = origin + ": " + std::string(status.message()) +
             " (weft rejects fields it does not implement; see README 'Bootstrap')";
    return false;
  }
  return true;
}

bool loadBootstrapFile(const std::string& path, envoy::config::bootstrap::v3::Bootstrap* bootstrap,
                       std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot open file";
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parseBootstrap(buffer.str(), path, bootstrap, error);
}

}  // namespace weft::translate
