#include "common/http/http2_codec.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/base/logging.h"

namespace weft::http {

namespace {
constexpr int32_t kStreamWindow = 1 << 20;      // 1 MiB per stream
constexpr int32_t kConnectionWindow = 4 << 20;  // 4 MiB per connection
constexpr size_t kStreamSendHighWatermark = 1 << 20;

bool isConnectionSpecific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name == "host";
}

// Names and values the codec writes itself (nghttp2_nv points at them).
const std::string kMethod = ":method", kConnect = "CONNECT", kProtocol = ":protocol",
                  kScheme = ":scheme", kHttp = "http", kStatusName = ":status", k200 = "200";

void toLower(std::string& text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

nghttp2_nv makeNv(const std::string& name, const std::string& value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}
}  // namespace

class Http2ConnectionBase::Stream : public StreamEncoder {
 public:
  Stream(Http2ConnectionBase& parent) : parent_(parent) {}

  void encodeHeaders(const HeaderMap& headers, bool end_stream) override {
    parent_.encodeHeadersOn(*this, headers, end_stream, !parent_.is_server_);
  }
  void encodeData(std::string_view data, bool end_stream) override {
    parent_.encodeDataOn(*this, data, end_stream);
  }
  void encodeTrailers(const HeaderMap& trailers) override {
    parent_.encodeTrailersOn(*this, trailers);
  }
  void resetStream(StreamResetReason) override { parent_.resetStreamOn(*this); }
  void readDisable(bool disable) override { parent_.readDisableOn(*this, disable); }
  void releaseDecoder(StreamDecoder& decoder) override { parent_.releaseDecoderOn(*this, decoder); }

  Http2ConnectionBase& parent_;
  int32_t id = -1;
  StreamDecoder* decoder = nullptr;
  // An HTTP/1.1 upgrade carried as an extended CONNECT (RFC 8441): its token.
  std::string upgrade;
  HeaderMap receiving;         // headers or trailers being received
  size_t receiving_bytes = 0;  // RFC 9113 §6.5.2's size of `receiving`
  bool receiving_too_large = false;
  bool headers_received = false;
  bool remote_end = false;
  bool local_end = false;
  bool local_end_sent = false;   // the frame carrying our END_STREAM went out
  bool reset_after_end = false;  // RST_STREAM NO_ERROR once it has
  bool closed = false;           // nghttp2 closed it; only deferred deletion is left
  bool provider_attached = false;
  bool data_deferred = false;
  std::string send_buffer;
  size_t send_offset = 0;
  bool send_end = false;
  bool has_trailers = false;
  HeaderMap trailers;
  int read_disabled = 0;
  size_t unconsumed = 0;
  bool above_watermark = false;

  size_t pendingSend() const { return send_buffer.size() - send_offset; }
};

Http2ConnectionBase::Http2ConnectionBase(network::ByteStream& connection, bool is_server,
                                         Http2Settings settings)
    : connection_(connection), settings_(settings), is_server_(is_server) {
  nghttp2_session_callbacks* callbacks;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &onFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &onDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &onStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &onFrameSend);
  nghttp2_option* option;
  nghttp2_option_new(&option);
  nghttp2_option_set_no_auto_window_update(option, 1);
  // Floods end the connection with a GOAWAY instead of costing memory or
  // CPU: Rapid Reset (CVE-2023-44487; nghttp2's own defaults, set here so
  // they are on record), CONTINUATION floods, and SETTINGS frames with more
  // entries than any real peer sends.
  nghttp2_option_set_stream_reset_rate_limit(option, 1000, 33);
  nghttp2_option_set_max_continuations(option, 8);
  nghttp2_option_set_max_settings(option, 32);
  nghttp2_option_set_max_outbound_ack(option, 1000);
  if (is_server) {
    nghttp2_session_server_new2(&session_, callbacks, this, option);
  } else {
    nghttp2_session_client_new2(&session_, callbacks, this, option);
  }
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);

  nghttp2_settings_entry local_settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1024},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<uint32_t>(settings_.max_header_list_bytes)},
      {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
  };
  // Only a server announces extended CONNECT (RFC 8441 §3).
  size_t count = is_server && settings_.allow_extended_connect ? 4 : 3;
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, local_settings, count);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
}

Http2ConnectionBase::~Http2ConnectionBase() { nghttp2_session_del(session_); }

Http2ConnectionBase::Stream* Http2ConnectionBase::findStream(int32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

void Http2ConnectionBase::dispatchData(std::string_view data) {
  if (failed_) return;
  dispatching_ = true;
  ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data.data()),
                                        data.size());
  dispatching_ = false;
  if (rv < 0) {
    LOG_DEBUG("http2: %s", nghttp2_strerror(static_cast<int>(rv)));
    onProtocolFailure();
    return;
  }
  sendPending();
}

void Http2ConnectionBase::sendPending() {
  if (dispatching_ || failed_) return;
  for (;;) {
    const uint8_t* out = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &out);
    if (n < 0) {
      onProtocolFailure();
      return;
    }
    if (n == 0) break;
    connection_.write(std::string_view(reinterpret_cast<const char*>(out), static_cast<size_t>(n)));
  }
  if (connection_error_sent_) {
    closeAfterConnectionError();
    return;
  }
  // nghttp2 is done once a GOAWAY has gone and nothing is left to send, but
  // a stream whose response is still coming (its data deferred until the
  // upstream sends more) is not done: closing then would cut that response.
  if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0 &&
      streams_.empty()) {
    connection_.close(network::CloseType::kFlushWrite);
  }
}

void Http2ConnectionBase::closeAfterConnectionError() {
  failed_ = true;
  std::vector<StreamDecoder*> decoders;
  for (auto& [id, stream] : streams_) {
    if (stream->decoder != nullptr) decoders.push_back(stream->decoder);
    stream->decoder = nullptr;
  }
  for (auto* decoder : decoders) decoder->onResetStream(StreamResetReason::kProtocolError);
  connection_.close(network::CloseType::kFlushWrite);
}

void Http2ConnectionBase::onProtocolFailure() {
  if (failed_) return;
  // nghttp2 has queued a GOAWAY for protocol errors: flush it, then close.
  dispatching_ = false;
  const uint8_t* out = nullptr;
  ssize_t n;
  while ((n = nghttp2_session_mem_send(session_, &out)) > 0) {
    connection_.write(std::string_view(reinterpret_cast<const char*>(out), static_cast<size_t>(n)));
  }
  failed_ = true;
  connection_.close(network::CloseType::kFlushWrite);
}

void Http2ConnectionBase::encodeHeadersOn(Stream& stream, const HeaderMap& headers, bool end_stream,
                                          bool request) {
  if (failed_) return;
  std::vector<nghttp2_nv> nva;
  nva.reserve(headers.size() + 3);
  const std::string* upgrade = request ? headers.get("upgrade") : nullptr;
  bool connect = request && headers.method() == "CONNECT";
  if (upgrade != nullptr && !connect && settings_.allow_extended_connect) {
    // RFC 8441 §4: the upgrade as an extended CONNECT; :scheme, :path and
    // :authority stay, :protocol names what the tunnel carries.
    stream.upgrade = *upgrade;
    toLower(stream.upgrade);
    nva.push_back(makeNv(kMethod, kConnect));
    nva.push_back(makeNv(kProtocol, stream.upgrade));
    if (!headers.has(":scheme")) nva.push_back(makeNv(kScheme, kHttp));
    for (const auto& [name, value] : headers.entries()) {
      if (!name.empty() && name[0] == ':' && name != kMethod) nva.push_back(makeNv(name, value));
    }
  } else if (!request && !stream.upgrade.empty() && headers.statusCode() == 101) {
    // The upstream switched protocols: RFC 8441's answer is a 200.
    nva.push_back(makeNv(kStatusName, k200));
  } else {
    // Pseudo-headers first, as HTTP/2 requires; a plain CONNECT has only
    // :method and :authority (RFC 9113 §8.5).
    for (const auto& [name, value] : headers.entries()) {
      if (name.empty() || name[0] != ':') continue;
      if (connect && (name == ":path" || name == ":scheme")) continue;
      nva.push_back(makeNv(name, value));
    }
  }
  for (const auto& [name, value] : headers.entries()) {
    if (name.empty() || name[0] == ':' || isConnectionSpecific(name)) continue;
    if (name == "te" && value != "trailers") continue;
    nva.push_back(makeNv(name, value));
  }
  nghttp2_data_provider provider;
  provider.source.ptr = &stream;
  provider.read_callback = &Http2ConnectionBase::readData;
  nghttp2_data_provider* prd = end_stream ? nullptr : &provider;
  stream.provider_attached = !end_stream;
  if (end_stream) stream.local_end = true;
  if (request) {
    int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), prd, &stream);
    auto* client = static_cast<Http2ClientConnection*>(this);
    auto it = client->unsubmitted_.find(&stream);
    if (id < 0) {
      LOG_DEBUG("http2: submit_request: %s", nghttp2_strerror(id));
      if (it != client->unsubmitted_.end()) {
        StreamDecoder* decoder = stream.decoder;
        connection_.dispatcher().deferDelete(std::move(it->second));
        client->unsubmitted_.erase(it);
        if (decoder != nullptr) decoder->onResetStream(StreamResetReason::kLocalReset);
      }
      return;
    }
    stream.id = id;
    if (it != client->unsubmitted_.end()) {
      streams_[id] = std::move(it->second);
      client->unsubmitted_.erase(it);
    }
  } else {
    nghttp2_submit_response(session_, stream.id, nva.data(), nva.size(), prd);
  }
  sendPending();
}

void Http2ConnectionBase::encodeDataOn(Stream& stream, std::string_view data, bool end_stream) {
  if (failed_ || stream.closed || !stream.provider_attached || stream.id < 0) return;
  stream.send_buffer.append(data);
  if (end_stream) stream.send_end = true;
  if (!stream.above_watermark && stream.pendingSend() > kStreamSendHighWatermark) {
    stream.above_watermark = true;
    if (stream.decoder != nullptr) stream.decoder->onAboveWriteBufferHighWatermark();
  }
  if (stream.data_deferred) {
    stream.data_deferred = false;
    nghttp2_session_resume_data(session_, stream.id);
  }
  sendPending();
}

void Http2ConnectionBase::encodeTrailersOn(Stream& stream, const HeaderMap& trailers) {
  if (failed_ || stream.closed || stream.id < 0) return;
  if (!stream.provider_attached) return;  // the stream already ended with its headers
  stream.trailers = trailers;
  stream.has_trailers = true;
  stream.send_end = true;
  if (stream.data_deferred) {
    stream.data_deferred = false;
    nghttp2_session_resume_data(session_, stream.id);
  }
  sendPending();
}

ssize_t Http2ConnectionBase::readData(nghttp2_session* session, int32_t, uint8_t* buf,
                                      size_t length, uint32_t* data_flags,
                                      nghttp2_data_source* source, void*) {
  auto* stream = static_cast<Stream*>(source->ptr);
  size_t n = std::min(length, stream->pendingSend());
  if (n > 0) {
    std::memcpy(buf, stream->send_buffer.data() + stream->send_offset, n);
    stream->send_offset += n;
    if (stream->send_offset == stream->send_buffer.size()) {
      stream->send_buffer.clear();
      stream->send_offset = 0;
    }
  }
  if (stream->above_watermark && stream->pendingSend() < kStreamSendHighWatermark / 2) {
    stream->above_watermark = false;
    if (stream->decoder != nullptr) stream->decoder->onBelowWriteBufferLowWatermark();
  }
  if (stream->pendingSend() == 0) {
    if (stream->send_end) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
      stream->local_end = true;
      if (stream->has_trailers) {
        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        std::vector<nghttp2_nv> nva;
        for (const auto& [name, value] : stream->trailers.entries()) {
          if (!name.empty() && name[0] != ':') nva.push_back(makeNv(name, value));
        }
        nghttp2_submit_trailer(session, stream->id, nva.data(), nva.size());
      }
    } else if (n == 0) {
      stream->data_deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
  }
  return static_cast<ssize_t>(n);
}

void Http2ConnectionBase::resetStreamOn(Stream& stream) {
  stream.decoder = nullptr;
  if (stream.closed) return;
  if (stream.id >= 0) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_CANCEL);
    sendPending();
    return;
  }
  if (!is_server_) {
    auto* client = static_cast<Http2ClientConnection*>(this);
    auto it = client->unsubmitted_.find(&stream);
    if (it != client->unsubmitted_.end()) {
      connection_.dispatcher().deferDelete(std::move(it->second));
      client->unsubmitted_.erase(it);
    }
  }
}

void Http2ConnectionBase::readDisableOn(Stream& stream, bool disable) {
  if (disable) {
    ++stream.read_disabled;
    return;
  }
  if (stream.read_disabled > 0 && --stream.read_disabled == 0 && stream.unconsumed > 0) {
    if (stream.id >= 0 && findStream(stream.id) == &stream) {
      nghttp2_session_consume(session_, stream.id, stream.unconsumed);
    }
    stream.unconsumed = 0;
    sendPending();
  }
}

void Http2ConnectionBase::releaseDecoderOn(Stream& stream, StreamDecoder& decoder) {
  if (stream.decoder != &decoder) return;
  stream.decoder = nullptr;
  if (stream.closed || failed_) return;
  if (stream.id < 0) {  // a client stream never submitted: nothing on the wire
    resetStreamOn(stream);
    return;
  }
  bool our_end_queued = stream.local_end || stream.send_end;
  if (stream.remote_end && our_end_queued) return;  // it closes once our end is out
  if (our_end_queued) {
    // Our side is complete (an early response): ask the peer to stop
    // sending, without error, once END_STREAM is out.
    if (stream.local_end_sent) {
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_NO_ERROR);
      sendPending();
    } else {
      stream.reset_after_end = true;
    }
    return;
  }
  // Our side will never complete now: end the stream.
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_CANCEL);
  sendPending();
}

void Http2ConnectionBase::notifyWatermark(bool above) {
  for (auto& [id, stream] : streams_) {
    if (stream->decoder == nullptr) continue;
    if (above) {
      stream->decoder->onAboveWriteBufferHighWatermark();
    } else {
      stream->decoder->onBelowWriteBufferLowWatermark();
    }
  }
}

int Http2ConnectionBase::onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<Http2ConnectionBase*>(user);
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST &&
      self->is_server_) {
    self->onStreamHeadersBegin(frame->hd.stream_id);
  }
  return 0;
}

int Http2ConnectionBase::onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                                  size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                                  void* user) {
  auto* self = static_cast<Http2ConnectionBase*>(user);
  Stream* stream = self->findStream(frame->hd.stream_id);
  if (stream == nullptr || stream->receiving_too_large) return 0;
  // Counted as it decodes, so a small HPACK block that expands to megabytes
  // is refused before it is stored.
  stream->receiving_bytes += namelen + valuelen + 32;
  if (stream->receiving_bytes > self->settings_.max_header_list_bytes ||
      stream->receiving.size() >= self->settings_.max_headers_count) {
    stream->receiving_too_large = true;
    stream->receiving = HeaderMap();
    return 0;
  }
  stream->receiving.add(std::string(reinterpret_cast<const char*>(name), namelen),
                        std::string(reinterpret_cast<const char*>(value), valuelen));
  return 0;
}

int Http2ConnectionBase::onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<Http2ConnectionBase*>(user);
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    self->goaway_received_ = true;
    return 0;
  }
  Stream* stream = self->findStream(frame->hd.stream_id);
  if (stream == nullptr) return 0;
  bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (frame->hd.type == NGHTTP2_HEADERS) {
    HeaderMap headers = std::move(stream->receiving);
    stream->receiving = HeaderMap();
    stream->receiving_bytes = 0;
    if (end) stream->remote_end = true;
    if (stream->receiving_too_large) {
      stream->receiving_too_large = false;
      self->onHeadersTooLarge(*stream);
      return 0;
    }
    if (!stream->headers_received) {
      int status = headers.statusCode();
      if (!self->is_server_ && status >= 100 && status < 200) {  // interim
        stream->remote_end = false;
        return 0;
      }
      if (!self->is_server_ && !stream->upgrade.empty() && status == 200) {
        // The extended CONNECT was accepted: to the HTTP/1.1 side, a 101.
        headers.set(":status", "101");
        headers.add("upgrade", stream->upgrade);
      }
      stream->headers_received = true;
      if (self->is_server_) {
        // RFC 9113 §8.3.1: a request may carry host instead of :authority.
        if (headers.authority().empty()) {
          if (const std::string* host = headers.get("host")) headers.set(":authority", *host);
        }
        headers.remove("host");
        if (const std::string* protocol = headers.get(":protocol")) {
          // nghttp2 lets :protocol through only when we announced extended
          // CONNECT; an upgrade this listener does not enable is refused.
          std::string token = *protocol;
          toLower(token);
          const auto& allowed = self->settings_.upgrade_types;
          if (headers.method() != "CONNECT" ||
              std::find(allowed.begin(), allowed.end(), token) == allowed.end()) {
            self->refuseRequest(*stream, "501");
            return 0;
          }
          headers.remove(":protocol");
          headers.set(":method", "GET");
          headers.add("upgrade", token);
          stream->upgrade = std::move(token);
        }
        stream->decoder = self->newDecoder(*stream);
      }
      if (stream->decoder != nullptr) stream->decoder->decodeHeaders(std::move(headers), end);
    } else {
      if (stream->decoder != nullptr) stream->decoder->decodeTrailers(std::move(headers));
    }
  } else if (frame->hd.type == NGHTTP2_DATA && end) {
    stream->remote_end = true;
    if (stream->decoder != nullptr) stream->decoder->decodeData(std::string_view(), true);
  }
  return 0;
}

int Http2ConnectionBase::onDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id,
                                     const uint8_t* data, size_t len, void* user) {
  auto* self = static_cast<Http2ConnectionBase*>(user);
  Stream* stream = self->findStream(stream_id);
  if (stream == nullptr || stream->decoder == nullptr) {
    nghttp2_session_consume(session, stream_id, len);
    return 0;
  }
  stream->decoder->decodeData(std::string_view(reinterpret_cast<const char*>(data), len), false);
  // The decoder may have paused this stream while handling the data.
  if (stream->read_disabled > 0) {
    stream->unconsumed += len;
  } else {
    nghttp2_session_consume(session, stream_id, len);
  }
  return 0;
}

int Http2ConnectionBase::onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                                       void* user) {
  auto* self = static_cast<Http2ConnectionBase*>(user);
  auto it = self->streams_.find(stream_id);
  if (it == self->streams_.end()) return 0;
  std::unique_ptr<Stream> stream = std::move(it->second);
  self->streams_.erase(it);
  stream->closed = true;
  StreamDecoder* decoder = stream->decoder;
  stream->decoder = nullptr;
  // Closed before both directions completed (a reset, even one with
  // NO_ERROR): the decoder must learn of it, or it keeps a freed encoder.
  if (decoder != nullptr &&
      (error_code != NGHTTP2_NO_ERROR || !stream->remote_end || !stream->local_end_sent)) {
    decoder->onResetStream(StreamResetReason::kRemoteReset);
  }
  self->onStreamClosedHook(*stream);
  // Callers up the stack may still hold the stream as their encoder.
  self->connection_.dispatcher().deferDelete(std::move(stream));
  return 0;
}

int Http2ConnectionBase::onFrameSend(nghttp2_session* session, const nghttp2_frame* frame,
                                     void* user) {
  auto* self = static_cast<Http2ConnectionBase*>(user);
  if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
    self->connection_error_sent_ = true;
    return 0;
  }
  if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0 ||
      (frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS)) {
    return 0;
  }
  Stream* stream = self->findStream(frame->hd.stream_id);
  if (stream == nullptr) return 0;
  stream->local_end_sent = true;
  if (stream->reset_after_end && !stream->remote_end) {
    stream->reset_after_end = false;
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream->id, NGHTTP2_NO_ERROR);
  }
  return 0;
}

// ---- server ----

Http2ServerConnection::Http2ServerConnection(network::ByteStream& connection,
                                             ServerConnectionCallbacks& callbacks,
                                             Http2Settings settings)
    : Http2ConnectionBase(connection, true, settings), callbacks_(callbacks) {}

Http2ServerConnection::~Http2ServerConnection() = default;

void Http2ServerConnection::dispatch(std::string_view data) { dispatchData(data); }

void Http2ServerConnection::onRemoteEof() {
  for (auto& [id, stream] : streams_) {
    StreamDecoder* decoder = stream->decoder;
    stream->decoder = nullptr;
    if (decoder != nullptr) decoder->onResetStream(StreamResetReason::kRemoteReset);
  }
}

void Http2ServerConnection::shutdownNotice() {
  if (notice_sent_ || goaway_sent_ || failed_) return;
  notice_sent_ = true;
  nghttp2_submit_shutdown_notice(session_);
  sendPending();
}

void Http2ServerConnection::goAway() {
  if (goaway_sent_ || failed_) return;
  goaway_sent_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  sendPending();
  if (streams_.empty()) connection_.close(network::CloseType::kFlushWrite);
}

void Http2ServerConnection::abortIncompleteRequest() {
  if (failed_) return;
  goAway();
  failed_ = true;
  connection_.close(network::CloseType::kFlushWrite);
}

void Http2ServerConnection::onStreamHeadersBegin(int32_t stream_id) {
  auto stream = std::make_unique<Stream>(*this);
  stream->id = stream_id;
  streams_[stream_id] = std::move(stream);
}

StreamDecoder* Http2ServerConnection::newDecoder(Stream& stream) {
  return &callbacks_.newStream(stream);
}

void Http2ServerConnection::onHeadersTooLarge(Stream& stream) {
  if (stream.headers_received) {  // trailers: the request is already with the router
    StreamDecoder* decoder = stream.decoder;
    stream.decoder = nullptr;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_CANCEL);
    if (decoder != nullptr) decoder->onResetStream(StreamResetReason::kProtocolError);
    return;
  }
  LOG_DEBUG("http2: stream %d: request headers over the limits (%zu bytes, %u fields): 431",
            stream.id, settings_.max_header_list_bytes, settings_.max_headers_count);
  refuseRequest(stream, "431");
}

void Http2ConnectionBase::refuseRequest(Stream& stream, const std::string& status_code) {
  stream.headers_received = true;
  nghttp2_nv status = makeNv(kStatusName, status_code);
  stream.local_end = true;
  if (!stream.remote_end) stream.reset_after_end = true;
  nghttp2_submit_response(session_, stream.id, &status, 1, nullptr);
}

void Http2ServerConnection::onStreamClosedHook(Stream&) {
  if (goaway_sent_ && streams_.empty()) connection_.close(network::CloseType::kFlushWrite);
}

// ---- client ----

Http2ClientConnection::Http2ClientConnection(network::ByteStream& connection,
                                             ClientConnectionCallbacks& callbacks,
                                             Http2Settings settings)
    : Http2ConnectionBase(connection, false, settings), callbacks_(callbacks) {
  sendPending();  // the client preface and SETTINGS
}

Http2ClientConnection::~Http2ClientConnection() = default;

StreamEncoder& Http2ClientConnection::newStream(StreamDecoder& response_decoder) {
  auto stream = std::make_unique<Stream>(*this);
  stream->decoder = &response_decoder;
  Stream* raw = stream.get();
  unsubmitted_[raw] = std::move(stream);
  return *raw;
}

void Http2ClientConnection::dispatch(std::string_view data) {
  dispatchData(data);
  if (failed_) callbacks_.onProtocolError();
}

void Http2ClientConnection::onRemoteEof() { goaway_received_ = true; }

bool Http2ClientConnection::available() const {
  if (goingAway()) return false;
  uint32_t max =
      nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return activeStreams() < std::min<uint32_t>(max, 1024);
}

void Http2ClientConnection::onConnectionClosed(StreamResetReason reason) {
  failed_ = true;
  std::vector<StreamDecoder*> decoders;
  for (auto& [id, stream] : streams_) {
    if (stream->decoder != nullptr) decoders.push_back(stream->decoder);
    stream->decoder = nullptr;
  }
  for (auto& [raw, stream] : unsubmitted_) {
    if (stream->decoder != nullptr) decoders.push_back(stream->decoder);
    stream->decoder = nullptr;
  }
  for (auto* decoder : decoders) decoder->onResetStream(reason);
}

void Http2ClientConnection::onHeadersTooLarge(Stream& stream) {
  LOG_DEBUG("http2: stream %d: response headers over the limits: reset", stream.id);
  StreamDecoder* decoder = stream.decoder;
  stream.decoder = nullptr;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_CANCEL);
  if (decoder != nullptr) decoder->onResetStream(StreamResetReason::kProtocolError);
}

void Http2ClientConnection::onStreamClosedHook(Stream&) { callbacks_.onStreamComplete(); }

}  // namespace weft::http
