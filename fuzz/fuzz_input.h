#pragma once

// Reads a fuzzer's input as a sequence of choices and byte strings, so one
// input drives a whole exchange (chunk boundaries, which side answers when,
// frame headers) and small mutations stay meaningful.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace weft::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : data_(reinterpret_cast<const char*>(data)), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  uint8_t byte() { return pos_ < size_ ? static_cast<uint8_t>(data_[pos_++]) : 0; }
  uint16_t u16() { return static_cast<uint16_t>(byte() << 8 | byte()); }
  // Up to `max` bytes (fewer at the end of the input).
  std::string_view bytes(size_t max) {
    size_t n = max < size_ - pos_ ? max : size_ - pos_;
    std::string_view out(data_ + pos_, n);
    pos_ += n;
    return out;
  }
  std::string_view rest() { return bytes(size_ - pos_); }

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace weft::fuzz
