#include "proxy/workload/peer_exchange.h"

namespace weft::workload {
namespace {
constexpr std::string_view kMagic = "WPX1";
constexpr size_t kHeaderBytes = 6;  // magic + length
}  // namespace

std::string encodePeerFrame(std::string_view metadata) {
  if (metadata.size() > kMaxPeerFrameBytes) metadata = {};  // never sent: bounded at the source
  std::string frame(kMagic);
  frame.push_back(static_cast<char>(metadata.size() >> 8));
  frame.push_back(static_cast<char>(metadata.size() & 0xff));
  frame.append(metadata);
  return frame;
}

PeerFrame takePeerFrame(std::string& buffer, std::string* metadata) {
  size_t have = std::min(buffer.size(), kMagic.size());
  if (std::string_view(buffer).substr(0, have) != kMagic.substr(0, have)) {
    return PeerFrame::kInvalid;
  }
  if (buffer.size() < kHeaderBytes) return PeerFrame::kIncomplete;
  size_t length = static_cast<size_t>(static_cast<unsigned char>(buffer[4])) << 8 |
                  static_cast<unsigned char>(buffer[5]);
  if (length > kMaxPeerFrameBytes) return PeerFrame::kInvalid;
  if (buffer.size() < kHeaderBytes + length) return PeerFrame::kIncomplete;
  metadata->assign(buffer, kHeaderBytes, length);
  buffer.erase(0, kHeaderBytes + length);
  return PeerFrame::kComplete;
}

}  // namespace weft::workload
