// HTTP/1.1 client codec: one request out, then arbitrary "upstream" bytes
// as its response, in chunks; a complete response starts the next request on
// the same connection, as the pool would.

#include <uv.h>

#include <memory>

#include "common/http/http1_client.h"
#include "common/network/memory_byte_stream.h"
#include "fuzz/fuzz_input.h"

namespace {
using namespace weft;

class Callbacks : public http::ClientConnectionCallbacks {
 public:
  void onStreamComplete() override { ++completed; }
  void onProtocolError() override { failed = true; }
  int completed = 0;
  bool failed = false;
};

class ResponseDecoder : public http::StreamDecoder {
 public:
  void decodeHeaders(http::HeaderMap&& headers, bool end_stream) override {
    (void)headers.statusCode();
    done |= end_stream;
  }
  void decodeData(std::string_view, bool end_stream) override { done |= end_stream; }
  void decodeTrailers(http::HeaderMap&&) override { done = true; }
  void onResetStream(http::StreamResetReason) override { done = true; }
  bool done = false;
};

void sendRequest(http::Http1ClientConnection& codec, ResponseDecoder& decoder, uint8_t choice) {
  http::StreamEncoder& encoder = codec.newStream(decoder);
  http::HeaderMap headers;
  const char* methods[] = {"GET", "HEAD", "POST", "CONNECT"};
  headers.add(":method", methods[choice % 4]);
  headers.add(":path", "/");
  headers.add(":authority", "upstream");
  if (choice & 4) headers.add("upgrade", "websocket");
  bool body = (choice & 8) != 0;
  encoder.encodeHeaders(headers, !body);
  if (body) encoder.encodeData("request body", true);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput input(data, size);
  event::Dispatcher dispatcher;
  network::MemoryByteStream stream(dispatcher);
  Callbacks callbacks;
  {
    http::Http1ClientConnection codec(stream, callbacks);
    auto decoder = std::make_unique<ResponseDecoder>();
    sendRequest(codec, *decoder, input.byte());
    while (!input.empty() && !callbacks.failed && !stream.closed()) {
      codec.dispatch(input.bytes(1 + input.byte()));
      if (decoder->done && codec.available()) {
        decoder = std::make_unique<ResponseDecoder>();
        sendRequest(codec, *decoder, input.byte());
      }
      stream.take();
      uv_run(dispatcher.loop(), UV_RUN_NOWAIT);
    }
    codec.onRemoteEof();
    codec.onConnectionClosed(http::StreamResetReason::kConnectionTermination);
  }
  uv_run(dispatcher.loop(), UV_RUN_NOWAIT);
  return 0;
}
