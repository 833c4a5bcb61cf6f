#pragma once

// Header list shared by the HTTP/1 and HTTP/2 codecs. Names are lower case;
// the request line and status travel as HTTP/2 pseudo-headers (:method,
// :path, :authority, :scheme, :status) whatever the wire protocol.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft::http {

class HeaderMap {
 public:
  using Entry = std::pair<std::string, std::string>;

  // Appends; `name` must already be lower case.
  void add(std::string name, std::string value) {
    bytes_ += name.size() + value.size();
    entries_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every value of `name` with one.
  void set(std::string_view name, std::string value);
  void remove(std::string_view name);
  // First value, or nullptr.
  const std::string* get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name) != nullptr; }

  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  size_t byteSize() const { return bytes_; }

  // Conveniences for the pseudo-headers.
  std::string_view method() const { return view(":method"); }
  std::string_view path() const { return view(":path"); }
  std::string_view authority() const { return view(":authority"); }
  std::string_view status() const { return view(":status"); }
  int statusCode() const;

 private:
  std::string_view view(std::string_view name) const {
    const std::string* v = get(name);
    return v == nullptr ? std::string_view() : std::string_view(*v);
  }

  std::vector<Entry> entries_;
  size_t bytes_ = 0;
};

// Lower-cases ASCII in place.
void toLowerInPlace(std::string& s);
bool equalsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace weft::http
