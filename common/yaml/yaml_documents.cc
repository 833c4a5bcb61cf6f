#include "common/yaml/yaml_documents.h"

#include <yaml-cpp/eventhandler.h>

#include <sstream>

namespace weft::common {

namespace {
// Sees only where each document starts: a document starting where the
// previous one did means the parser is not consuming input.
class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    stalled = started && mark.pos == last.pos;
    started = true;
    last = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  bool started = false;
  bool stalled = false;
  YAML::Mark last;
};

std::string where(size_t line, size_t column) {
  return "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1);
}
}  // namespace

std::optional<size_t> firstInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > text.size()) return i;
    uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (size_t k = 1; k < n; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc >> 6) != 0x2) return i;
      cp = cp << 6 | (cc & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += n;
  }
  return std::nullopt;
}

bool loadYamlDocuments(const std::string& text, std::vector<YAML::Node>* documents,
                       std::string* error) {
  // YAML's printable set excludes C0 controls but TAB, LF and CR; they are
  // also what makes yaml-cpp guess UTF-16/32 from NULs and re-encode the
  // text into bytes that are not UTF-8 (bootstrap_fuzz).
  std::optional<size_t> bad = firstInvalidUtf8(text);
  const char* what = "not UTF-8";
  for (size_t i = 0; i < text.size() && (!bad || i < *bad); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      bad = i;
      what = "a control character YAML does not allow";
      break;
    }
  }
  if (bad) {
    size_t line = 0, column = 0;
    for (size_t i = 0; i < *bad; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 0;
      } else {
        ++column;
      }
    }
    *error =
        std::string(what) + " at " + where(line, column) + " (byte " + std::to_string(*bad) + ")";
    return false;
  }
  try {
    {
      std::istringstream in(text);
      YAML::Parser parser(in);
      DocumentStarts starts;
      while (parser.HandleNextDocument(starts)) {
        if (starts.stalled) {
          *error = "invalid YAML at " + where(starts.last.line, starts.last.column) +
                   ": no node can start here";
          return false;
        }
      }
    }
    *documents = YAML::LoadAll(text);
    return true;
  } catch (const YAML::Exception& e) {
    *error = "invalid YAML at " + where(e.mark.line, e.mark.column) + ": " + e.msg;
    return false;
  }
}

}  // namespace weft::common
