#include "proxy/http/connection_manager.h"

#include "common/base/logging.h"
#include "common/http/http1_server.h"
#include "common/http/http2_codec.h"
#include "proxy/http/active_stream.h"

namespace weft::http {

namespace {
constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
}

ConnectionManager::ConnectionManager(context::WorkerContext& context,
                                     const config::FilterChainConfig& chain,
                                     config::SnapshotPtr snapshot, stats::ListenerStats stats,
                                     std::unique_ptr<network::Connection> connection,
                                     uint32_t buffer_limit)
    : context_(context),
      chain_(chain),
      snapshot_(std::move(snapshot)),
      fingerprint_(chain.fingerprint),
      rbac_(chain.http.rbac),
      stats_(stats),
      connection_(std::move(connection)) {
  connection_->setCallbacks(this);
  connection_->setBufferLimit(buffer_limit);
  stats::inc(stats_.cx_total);
  stats::gaugeAdd(stats_.cx_active, 1);
  connection_->startReading();
  armIdleTimer();
}

void ConnectionManager::armIdleTimer() {
  if (chain_.http.idle_timeout_ms == 0 || closed_) return;
  if (!idle_timer_) {
    idle_timer_ =
        std::make_unique<event::Timer>(context_.dispatcher(), [this] { onIdleTimeout(); });
  }
  idle_timer_->enableMs(chain_.http.idle_timeout_ms);
}

void ConnectionManager::onIdleTimeout() {
  if (closed_ || !streams_.empty()) return;
  // HTTP/2 gets a GOAWAY first; either way the connection closes cleanly.
  if (codec_) codec_->goAway();
  connection_->close(network::CloseType::kFlushWrite);
}

ConnectionManager::~ConnectionManager() {
  connection_->setCallbacks(nullptr);
  streams_.clear();
}

bool ConnectionManager::createCodec(std::string_view first_bytes) {
  config::CodecType codec = chain_.http.codec;
  if (codec == config::CodecType::kAuto) {
    size_t n = std::min(first_bytes.size(), kHttp2Preface.size());
    if (first_bytes.substr(0, n) == kHttp2Preface.substr(0, n)) {
      if (n < kHttp2Preface.size()) return false;  // need more bytes to decide
      codec = config::CodecType::kHttp2;
    } else {
      codec = config::CodecType::kHttp1;
    }
  }
  if (codec == config::CodecType::kHttp2) {
    http2_ = true;
    Http2Settings settings;
    settings.max_header_list_bytes = chain_.http.max_request_headers_bytes;
    settings.max_headers_count = chain_.http.max_headers_count;
    settings.allow_extended_connect = chain_.http.allow_connect;
    settings.upgrade_types = chain_.http.upgrade_types;
    codec_ = std::make_unique<Http2ServerConnection>(*connection_, *this, settings);
  } else {
    Http1Settings settings;
    settings.max_request_headers_bytes = chain_.http.max_request_headers_bytes;
    settings.max_headers_count = chain_.http.max_headers_count;
    settings.upgrade_types = chain_.http.upgrade_types;
    codec_ = std::make_unique<Http1ServerConnection>(*connection_, *this, settings);
  }
  if (context_.draining() || draining_) drainCodec();
  return true;
}

void ConnectionManager::onData(std::string_view data, bool end_stream) {
  if (closed_) return;
  if (end_stream) {
    // Only tunnels enable half-close; the codec ends the tunnel's request side.
    if (codec_) codec_->onRemoteEof();
    return;
  }
  if (!codec_) {
    sniffed_.append(data);
    if (createCodec(sniffed_)) {
      std::string first;
      first.swap(sniffed_);
      codec_->dispatch(first);
    }
  } else {
    codec_->dispatch(data);
  }
  // HTTP/1 only: bytes with no request in progress are the start of one. On
  // HTTP/2 they can be PINGs and SETTINGS of an idle, pooled connection
  // (headers arrive whole, in at most 8 CONTINUATIONs nghttp2 allows).
  if (!closed_ && !http2_ && streams_.empty()) armHeadersTimer();
}

void ConnectionManager::armHeadersTimer() {
  if (headers_timer_armed_ || chain_.http.request_headers_timeout_ms == 0) return;
  if (!headers_timer_) {
    headers_timer_ =
        std::make_unique<event::Timer>(context_.dispatcher(), [this] { onHeadersTimeout(); });
  }
  headers_timer_armed_ = true;
  headers_timer_->enableMs(chain_.http.request_headers_timeout_ms);
}

void ConnectionManager::onHeadersTimeout() {
  headers_timer_armed_ = false;
  if (closed_ || !streams_.empty()) return;
  stats::inc(stats_.rq_downstream_timeout);
  LOG_DEBUG("request headers incomplete after %llu ms: closing",
            static_cast<unsigned long long>(chain_.http.request_headers_timeout_ms));
  if (codec_) {
    codec_->abortIncompleteRequest();
  } else {
    connection_->close(network::CloseType::kNoFlush);
  }
}

void ConnectionManager::onEvent(network::ConnectionEvent event) {
  if (event != network::ConnectionEvent::kRemoteClose &&
      event != network::ConnectionEvent::kLocalClose) {
    return;
  }
  if (closed_) return;
  closed_ = true;
  stats::gaugeAdd(stats_.cx_active, -1);
  // Streams still open lose their client: abandon their upstream side.
  while (!streams_.empty()) {
    ActiveStream* stream = streams_.front().get();
    stream->onResetStream(StreamResetReason::kConnectionTermination);
    if (!streams_.empty() && streams_.front().get() == stream) {
      context_.dispatcher().deferDelete(std::move(streams_.front()));
      streams_.pop_front();
    }
  }
  context_.removeConnection(this);
}

void ConnectionManager::onAboveWriteBufferHighWatermark() {
  if (codec_) codec_->onAboveWriteBufferHighWatermark();
}

void ConnectionManager::onBelowWriteBufferLowWatermark() {
  if (codec_) codec_->onBelowWriteBufferLowWatermark();
}

StreamDecoder& ConnectionManager::newStream(StreamEncoder& response_encoder) {
  if (idle_timer_) idle_timer_->disable();
  if (headers_timer_armed_) {
    headers_timer_armed_ = false;
    headers_timer_->disable();
  }
  streams_.push_back(std::make_unique<ActiveStream>(*this, response_encoder));
  return *streams_.back();
}

bool ConnectionManager::adoptAuthorization(const config::FilterChainConfig& next) {
  if (closed_) return true;
  fingerprint_ = next.fingerprint;
  rbac_ = next.http.rbac;
  // Every stream in flight is checked again, a WebSocket as much as a
  // request still arriving; ending one can end others (HTTP/1 closes the
  // connection), so each is looked up before it is checked.
  std::vector<ActiveStream*> current;
  for (auto& stream : streams_) current.push_back(stream.get());
  for (ActiveStream* stream : current) {
    if (closed_) break;
    bool live = false;
    for (auto& s : streams_) live = live || s.get() == stream;
    if (live) stream->reauthorize();
  }
  return true;
}

void ConnectionManager::onStreamDone(ActiveStream* stream) {
  for (auto it = streams_.begin(); it != streams_.end(); ++it) {
    if (it->get() == stream) {
      context_.dispatcher().deferDelete(std::move(*it));
      streams_.erase(it);
      break;
    }
  }
  if (streams_.empty()) armIdleTimer();
}

namespace {
// Between HTTP/2's GOAWAY notice and the final GOAWAY: well over a round
// trip in a cluster, so requests the client sent before seeing the notice
// arrive and are served.
constexpr uint64_t kGoAwayGraceMs = 1000;
}  // namespace

void ConnectionManager::startDrain() {
  if (closed_ || draining_) return;
  draining_ = true;
  if (codec_) {
    drainCodec();
    return;
  }
  // Nothing read yet, so no protocol to drain with: give bytes that may be on
  // the way the same grace, then close if none came.
  goaway_timer_ = std::make_unique<event::Timer>(context_.dispatcher(), [this] {
    if (!closed_ && !codec_) connection_->close(network::CloseType::kFlushWrite);
  });
  goaway_timer_->enableMs(kGoAwayGraceMs);
}

void ConnectionManager::drainCodec() {
  codec_->shutdownNotice();
  if (!codec_->graceful()) {
    if (streams_.empty()) connection_->close(network::CloseType::kFlushWrite);
    return;
  }
  goaway_timer_ = std::make_unique<event::Timer>(context_.dispatcher(), [this] {
    if (closed_) return;
    codec_->goAway();  // closes the connection once its streams are done
  });
  goaway_timer_->enableMs(kGoAwayGraceMs);
}

}  // namespace weft::http
