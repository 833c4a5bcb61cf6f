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

namespace {

// A bounds-checked reader over the ClientHello. A parser of its own rather
// than the TLS library's: OpenSSL's client-hello callback and BoringSSL's
// early callback differ and both need a handshake in progress, while this
// runs on the listener's first bytes, before any chain (or TLS context) is
// chosen. Every length is checked against what is left.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool skip(size_t n) {
    if (data_.size() < n) return false;
    data_.remove_prefix(n);
    return true;
  }
  bool number(size_t bytes, size_t* out) {
    if (data_.size() < bytes) return false;
    *out = 0;
    for (size_t i = 0; i < bytes; ++i) *out = (*out << 8) | static_cast<uint8_t>(data_[i]);
    data_.remove_prefix(bytes);
    return true;
  }
  // A length-prefixed block (the prefix `bytes` long), as a reader of its own.
  bool block(size_t bytes, Reader* out) {
    size_t length = 0;
    if (!number(bytes, &length) || data_.size() < length) return false;
    *out = Reader(data_.substr(0, length));
    data_.remove_prefix(length);
    return true;
  }
  bool empty() const { return data_.empty(); }
  std::string_view rest() const { return data_; }

 private:
  std::string_view data_;
};

constexpr size_t kRecordHeader = 5;
constexpr size_t kMaxRecord = 16384 + 2048;  // TLSPlaintext's limit, with slack
constexpr size_t kAlpnExtension = 16;

}  // namespace

InspectResult clientHelloAlpn(std::string_view data, std::vector<std::string>* protocols) {
  protocols->clear();
  if (data.size() < kRecordHeader) return InspectResult::kNeedMoreData;
  Reader header(data.substr(0, kRecordHeader));
  size_t type = 0, version = 0, length = 0;
  header.number(1, &type);
  header.number(2, &version);
  header.number(2, &length);
  if (type != 0x16 || length > kMaxRecord) return InspectResult::kDone;
  if (data.size() < kRecordHeader + length) return InspectResult::kNeedMoreData;
  Reader record(data.substr(kRecordHeader, length));
  size_t handshake_type = 0;
  Reader hello(std::string_view{});
  if (!record.number(1, &handshake_type) || handshake_type != 1 || !record.block(3, &hello)) {
    return InspectResult::kDone;  // not a ClientHello, or one split across records
  }
  Reader session(std::string_view{}), ciphers(std::string_view{}), compression(std::string_view{}),
      extensions(std::string_view{});
  if (!hello.skip(2 + 32) || !hello.block(1, &session) || !hello.block(2, &ciphers) ||
      !hello.block(1, &compression) || !hello.block(2, &extensions)) {
    return InspectResult::kDone;
  }
  while (!extensions.empty()) {
    size_t extension_type = 0;
    Reader body(std::string_view{});
    if (!extensions.number(2, &extension_type) || !extensions.block(2, &body)) break;
    if (extension_type != kAlpnExtension) continue;
    Reader list(std::string_view{});
    if (!body.block(2, &list)) break;
    while (!list.empty()) {
      Reader name(std::string_view{});
      if (!list.block(1, &name)) break;
      protocols->emplace_back(name.rest());
    }
    break;
  }
  return InspectResult::kDone;
}

ProtocolInspector::ProtocolInspector(event::Dispatcher& dispatcher,
                                     std::unique_ptr<Connection> connection, uint64_t timeout_ms,
                                     Done done, Closed closed)
    : connection_(std::move(connection)),
      timer_(dispatcher, [this] { onTimeout(); }),
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
  if (inspectHttp(buffer_, &protocol) == InspectResult::kNeedMoreData) return;
  DetectedProtocols detected;
  if (protocol == "tls") {
    detected.tls = true;
    detected.result = "tls";
    // The chain may go by the ALPN offers: wait for the whole hello.
    if (clientHelloAlpn(buffer_, &detected.application) == InspectResult::kNeedMoreData) return;
  } else {
    detected.result = protocol.empty() ? "other" : protocol;
    if (!protocol.empty()) detected.application.push_back(std::move(protocol));
  }
  finish(std::move(detected));
}

void ProtocolInspector::onTimeout() {
  DetectedProtocols detected;
  detected.result = "timeout";
  std::string protocol;
  inspectHttp(buffer_, &protocol);
  if (protocol == "tls") {
    // A hello too slow to arrive whole: TLS, without its ALPN offers.
    detected.tls = true;
    clientHelloAlpn(buffer_, &detected.application);
  }
  finish(std::move(detected));
}

void ProtocolInspector::onEvent(ConnectionEvent event) {
  if (finished_) return;
  if (event == ConnectionEvent::kRemoteClose || event == ConnectionEvent::kLocalClose) {
    finished_ = true;
    timer_.disable();
    closed_();
  }
}

void ProtocolInspector::finish(DetectedProtocols protocols) {
  if (finished_) return;
  finished_ = true;
  timer_.disable();
  connection_->setCallbacks(nullptr);
  done_(std::move(connection_), std::move(protocols), std::move(buffer_));
}

}  // namespace weft::network
