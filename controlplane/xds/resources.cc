#include "controlplane/xds/resources.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cstdio>

namespace weft::control {

std::string contentHash(const std::string& bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(h));
  return out;
}

void packDeterministic(const google::protobuf::Message& message, google::protobuf::Any* any) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  any->set_type_url("type.googleapis.com/" + message.GetDescriptor()->full_name());
  any->set_value(std::move(bytes));
}

void ProxyResources::seal() {
  for (int t = 0; t < kXdsTypeCount; ++t) {
    std::string all;
    for (auto& [name, resource] : by_type[t]) {
      resource.version = contentHash(resource.any.value());
      all += name;
      all += resource.version;
    }
    version[t] = contentHash(all);
  }
}

}  // namespace weft::control
