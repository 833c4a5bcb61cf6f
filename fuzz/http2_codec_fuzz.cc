// HTTP/2 codec, both roles, from a structured input: after the peer's
// preface, each record [type, flags, stream, length(2), payload] becomes one
// frame with a well-formed 9-byte header, so mutations reach the frame
// handling and HPACK instead of dying on a bad header. Frames are delivered
// one or several per read, as the input chooses.

#include <uv.h>

#include <memory>
#include <string>

#include "common/http/http2_codec.h"
#include "common/network/memory_byte_stream.h"
#include "fuzz/codec_peer.h"
#include "fuzz/fuzz_input.h"

namespace {
using namespace weft;

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  std::string out;
  size_t n = payload.size();
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(stream >> shift));
  out.append(payload);
  return out;
}

// The next few frames of the input, as one read.
std::string nextRead(fuzz::FuzzInput& input) {
  std::string out;
  int frames = 1 + input.byte() % 4;
  for (int i = 0; i < frames && !input.empty(); ++i) {
    uint8_t type = input.byte() % 11;  // DATA .. CONTINUATION, and one unknown type
    uint8_t flags = input.byte();
    uint32_t stream = input.byte();
    size_t length = input.u16() % 20000;
    out += frame(type, flags, stream, input.bytes(length));
  }
  return out;
}

class ClientCallbacks : public http::ClientConnectionCallbacks {
 public:
  void onStreamComplete() override {}
  void onProtocolError() override { failed = true; }
  bool failed = false;
};

class ResponseDecoder : public http::StreamDecoder {
 public:
  void decodeHeaders(http::HeaderMap&&, bool) override {}
  void decodeData(std::string_view, bool) override {}
  void decodeTrailers(http::HeaderMap&&) override {}
  void onResetStream(http::StreamResetReason) override { reset = true; }
  bool reset = false;
};

void fuzzServer(fuzz::FuzzInput& input, event::Dispatcher& dispatcher) {
  network::MemoryByteStream stream(dispatcher);
  fuzz::AnsweringServer server(input.byte());
  http::Http2Settings settings;
  settings.max_header_list_bytes = 512 + input.byte() * 256;
  settings.max_headers_count = 1 + input.byte() % 128;
  http::Http2ServerConnection codec(stream, server, settings);
  codec.dispatch(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + frame(4, 0, 0, ""));
  while (!input.empty() && !stream.closed()) {
    uint8_t op = input.byte();
    if (op == 0xfe) {
      codec.shutdownNotice();
    } else if (op == 0xff) {
      codec.goAway();
    } else {
      codec.dispatch(nextRead(input));
    }
    stream.take();
    uv_run(dispatcher.loop(), UV_RUN_NOWAIT);
  }
  codec.onRemoteEof();
  server.clear();
}

void fuzzClient(fuzz::FuzzInput& input, event::Dispatcher& dispatcher) {
  network::MemoryByteStream stream(dispatcher);
  ClientCallbacks callbacks;
  http::Http2ClientConnection codec(stream, callbacks);
  std::list<std::unique_ptr<ResponseDecoder>> decoders;
  auto request = [&](bool body) {
    decoders.push_back(std::make_unique<ResponseDecoder>());
    http::StreamEncoder& encoder = codec.newStream(*decoders.back());
    http::HeaderMap headers;
    headers.add(":method", body ? "POST" : "GET");
    headers.add(":scheme", "http");
    headers.add(":path", "/");
    headers.add(":authority", "upstream");
    encoder.encodeHeaders(headers, !body);
    if (body) encoder.encodeData(std::string(input.byte() * 512, 'b'), true);
  };
  request(false);
  request(true);
  codec.dispatch(frame(4, 0, 0, ""));
  while (!input.empty() && !callbacks.failed && !stream.closed()) {
    if (input.byte() == 0xff && codec.available()) request(input.byte() & 1);
    codec.dispatch(nextRead(input));
    stream.take();
    uv_run(dispatcher.loop(), UV_RUN_NOWAIT);
  }
  codec.onConnectionClosed(http::StreamResetReason::kConnectionTermination);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput input(data, size);
  event::Dispatcher dispatcher;
  if (input.byte() & 1) {
    fuzzClient(input, dispatcher);
  } else {
    fuzzServer(input, dispatcher);
  }
  uv_run(dispatcher.loop(), UV_RUN_NOWAIT);
  return 0;
}
