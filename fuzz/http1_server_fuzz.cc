// HTTP/1.1 server codec: arbitrary client bytes, delivered in chunks whose
// boundaries the input chooses, with a router side that answers at once,
// after the request, or never.

#include <uv.h>

#include "common/http/http1_server.h"
#include "common/network/memory_byte_stream.h"
#include "fuzz/codec_peer.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weft;
  fuzz::FuzzInput input(data, size);
  event::Dispatcher dispatcher;
  network::MemoryByteStream stream(dispatcher);
  fuzz::AnsweringServer server(input.byte());
  http::Http1Settings settings;
  settings.max_request_headers_bytes = 1024 + input.byte() * 64;
  settings.max_headers_count = 1 + input.byte() % 128;
  if (input.byte() & 1) settings.upgrade_types = {"websocket", "connect"};
  {
    http::Http1ServerConnection codec(stream, server, settings);
    while (!input.empty() && !stream.closed()) {
      codec.dispatch(input.bytes(1 + input.byte()));
      stream.take();
      uv_run(dispatcher.loop(), UV_RUN_NOWAIT);  // deferred deletions
    }
    if (!stream.closed()) codec.onRemoteEof();
    server.clear();
  }
  uv_run(dispatcher.loop(), UV_RUN_NOWAIT);
  return 0;
}
