#pragma once

// The router's side of a codec under fuzzing: a decoder that records what
// arrives and answers the way real upstreams do — at once, after the
// request, or never — so the encode paths and stream lifetimes (early
// responses, resets, releases) are exercised as well as the parsers.

#include <list>
#include <memory>

#include "common/http/codec.h"

namespace weft::fuzz {

class AnsweringDecoder : public http::StreamDecoder {
 public:
  enum class When { kOnHeaders, kOnEnd, kNever };

  AnsweringDecoder(http::StreamEncoder& encoder, When when) : encoder_(encoder), when_(when) {}
  ~AnsweringDecoder() override {
    if (!gone_) encoder_.releaseDecoder(*this);
  }

  void decodeHeaders(http::HeaderMap&& headers, bool end_stream) override {
    (void)headers.path();
    if (when_ == When::kOnHeaders || (end_stream && when_ == When::kOnEnd)) answer();
  }
  void decodeData(std::string_view data, bool end_stream) override {
    bytes_ += data.size();
    if (end_stream && when_ == When::kOnEnd) answer();
  }
  void decodeTrailers(http::HeaderMap&&) override {
    if (when_ == When::kOnEnd) answer();
  }
  void onResetStream(http::StreamResetReason) override { gone_ = true; }

 private:
  void answer() {
    if (answered_ || gone_) return;
    answered_ = true;
    http::HeaderMap headers;
    headers.add(":status", "200");
    headers.add("content-type", "text/plain");
    encoder_.encodeHeaders(headers, false);
    encoder_.encodeData("answered", false);
    http::HeaderMap trailers;
    trailers.add("x-trailer", "1");
    encoder_.encodeTrailers(trailers);
    // Done, as an ActiveStream is once its response is complete.
    if (!gone_) encoder_.releaseDecoder(*this);
    gone_ = true;
  }

  http::StreamEncoder& encoder_;
  When when_;
  bool answered_ = false;
  bool gone_ = false;
  size_t bytes_ = 0;
};

// Creates one AnsweringDecoder per request stream; `choice` picks when each answers.
class AnsweringServer : public http::ServerConnectionCallbacks {
 public:
  explicit AnsweringServer(uint8_t choice) : choice_(choice) {}
  http::StreamDecoder& newStream(http::StreamEncoder& encoder) override {
    auto when = static_cast<AnsweringDecoder::When>((choice_ + decoders_.size()) % 3);
    decoders_.push_back(std::make_unique<AnsweringDecoder>(encoder, when));
    return *decoders_.back();
  }
  // Decoders die before the codec, as ActiveStreams do before their connection.
  void clear() { decoders_.clear(); }

 private:
  uint8_t choice_;
  std::list<std::unique_ptr<AnsweringDecoder>> decoders_;
};

}  // namespace weft::fuzz
