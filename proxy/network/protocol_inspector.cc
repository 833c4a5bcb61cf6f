#include "proxy/network/protocol_inspector.h"

namespace weft::network {

namespace {
constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kMaxRequestLine = 8192;

bool isTokenChar(char c) { return c >= 'A' && c <= 'Z'; }
}  // namespace

InspectResult inspectHttp(std::string_view data, std::string* protocol) {
  protocol->clear();
  if (data.empty()) return InspectResult::kNeedMoreData;
  // A TLS handshake record (0x16) of TLS 1.x (0x03 0x0N): a ClientHello.
  if (static_cast<uint8_t>(data[0]) == 0x16) {
    if (data.size() < 3) return InspectResult::kNeedMoreData;
    if (data[1] == 0x03 && static_cast<uint8_t>(data[2]) <= 0x04) *protocol = "tls";
    return InspectResult::kDone;
  }
  size_t n = std::min(data.size(), kHttp2Preface.size());
  if (data.substr(0, n) == kHttp2Preface.substr(0, n)) {
    if (n < kHttp2Preface.size()) return InspectResult::kNeedMoreData;
    *protocol = "h2c";
    return InspectResult::kDone;
  }
  // HTTP/1: METHOD SP request-target SP HTTP/1.x CRLF
  size_t i = 0;
  while (i < data.size() && isTokenChar(data[i])) ++i;
  if (i == data.size()) return i < 20 ? InspectResult::kNeedMoreData : InspectResult::kDone;
  if (i == 0 || data[i] != ' ') return InspectResult::kDone;
  size_t eol = data.find("\r\n");
  if (eol == std::string_view::npos) {
    return data.size() < kMaxRequestLine ? InspectResult::kNeedMoreData : InspectResult::kDone;
  }
  std::string_view line = data.substr(0, eol);
  size_t last_space = line.rfind(' ');
  if (last_space == std::string_view::npos || last_space <= i) return InspectResult::kDone;
  std::string_view version = line.substr(last_space + 1);
  if (version == "HTTP/1.1") {
    *protocol = "http/1.1";
  } else if (version == "HTTP/1.0") {
    *protocol = "http/1.0";
  }
  return InspectResult::kDone;
}

ProtocolInspector::ProtocolInspector(event::Dispatcher& dispatcher,
                                     std::unique_ptr<Connection> connection, uint64_t timeout_ms,
                                     Done done, Closed closed)
    : connection_(std::move(connection)),
      timer_(dispatcher, [this] { finish(""); }),
      done_(std::move(done)),
      closed_(std::move(closed)) {
  connection_->setCallbacks(this);
  connection_->startReading();
  timer_.enableMs(timeout_ms);
}

ProtocolInspector::~ProtocolInspector() {
  if (connection_) connection_->setCallbacks(nullptr);
}

void ProtocolInspector::onData(std::string_view data, bool) {
  if (finished_) return;
  buffer_.append(data);
  std::string protocol;
  if (inspectHttp(buffer_, &protocol) == InspectResult::kDone) finish(std::move(protocol));
}

void ProtocolInspector::onEvent(ConnectionEvent event) {
  if (finished_) return;
  if (event == ConnectionEvent::kRemoteClose || event == ConnectionEvent::kLocalClose) {
    finished_ = true;
    timer_.disable();
    closed_();
  }
}

void ProtocolInspector::finish(std::string protocol) {
  if (finished_) return;
  finished_ = true;
  timer_.disable();
  connection_->setCallbacks(nullptr);
  done_(std::move(connection_), std::move(protocol), std::move(buffer_));
}

}  // namespace weft::network
