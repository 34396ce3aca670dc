#include "mail/header.h"

#include "mail/header_text.h"

namespace rapport::mail {
namespace {

// Whether a printable-ASCII value can be written as it is: no "=?" (a decoder would take it for
// an encoded word), no leading or trailing space (decoders strip it), no unbreakable run.
bool CanWritePlain(std::string_view value) {
  if (!IsPlainAscii(value)) return false;
  if (value.find("=?") != std::string_view::npos) return false;
  if (value.front() == ' ' || value.back() == ' ') return false;
  // Each fold point is before a run of spaces; a run of spaces and the word after it stay on
  // one line, so each such segment must stay short.
  size_t i = 0;
  while (i < value.size()) {
    size_t start = i;
    while (i < value.size() && value[i] == ' ') ++i;
    while (i < value.size() && value[i] != ' ') ++i;
    if (i - start > kMaxPlainRun) return false;
  }
  return true;
}

// Writes a printable-ASCII value, folding before a run of spaces when the next word would pass
// column 78 and the line already holds something.
void AppendPlainFolded(std::string& out, std::string_view value, size_t& column, size_t line_start) {
  size_t i = 0;
  while (i < value.size()) {
    size_t word_start = i;
    while (i < value.size() && value[i] == ' ') ++i;
    while (i < value.size() && value[i] != ' ') ++i;
    std::string_view segment = value.substr(word_start, i - word_start);
    if (word_start > 0 && column + segment.size() > kFoldAt && column > line_start) {
      out.append("\r\n");
      column = 0;
      line_start = 1;
    }
    out.append(segment);
    column += segment.size();
  }
}

}  // namespace

Status ValidateHeaderName(std::string_view name) {
  if (name.empty()) return Error::Invalid("header", "a header name is empty");
  if (name.size() > kMaxHeaderNameLength)
    return Error::Invalid(LowerHeaderName(name), "the header name is longer than 76 characters");
  for (unsigned char c : name) {
    if (c < 0x21 || c > 0x7E || c == ':')
      return Error::Invalid("header", "a header name may hold only printable ASCII without ':'");
  }
  return {};
}

Status ValidateHeaderValue(std::string_view field, std::string_view value) {
  if (value.size() > kMaxHeaderValueLength)
    return Error::Invalid(std::string(field), "the value is too long for a header");
  for (size_t i = 0; i < value.size(); ++i) {
    unsigned char c = value[i];
    if (c == '\r' || c == '\n')
      return Error::Invalid(std::string(field), "a header value may not contain CR or LF");
    if (c < 0x20 || c == 0x7F)
      return Error::Invalid(std::string(field), "a header value may not contain control characters");
    // C1 controls U+0080..U+009F are C2 80..C2 9F in UTF-8.
    if (c == 0xC2 && i + 1 < value.size() && static_cast<unsigned char>(value[i + 1]) < 0xA0 &&
        static_cast<unsigned char>(value[i + 1]) >= 0x80)
      return Error::Invalid(std::string(field), "a header value may not contain control characters");
  }
  if (!IsValidUtf8(value)) return Error::Invalid(std::string(field), "the value is not valid UTF-8");
  return {};
}

Status AppendUnstructuredHeader(std::string& out, std::string_view name, std::string_view value) {
  RAPPORT_TRY(ValidateHeaderName(name));
  RAPPORT_TRY(ValidateHeaderValue(LowerHeaderName(name), value));
  out.append(name);
  out.push_back(':');
  size_t column = name.size() + 1;
  if (value.empty()) {
    out.append("\r\n");
    return {};
  }
  if (CanWritePlain(value)) {
    out.push_back(' ');
    ++column;
    AppendPlainFolded(out, value, column, column);
  } else {
    AppendEncodedWords(out, value, column, /*phrase=*/false);
  }
  out.append("\r\n");
  return {};
}

Result<std::string> EncodeUnstructuredHeader(std::string_view name, std::string_view value) {
  std::string out;
  out.reserve(name.size() + value.size() * 2 + 16);
  RAPPORT_TRY(AppendUnstructuredHeader(out, name, value));
  return out;
}

}  // namespace rapport::mail
