#include "template/html_escape.h"

#include <cstring>

namespace rapport::liquid {

void AppendEscapedHtml(std::string& out, std::string_view s) {
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char* rep = nullptr;
    switch (s[i]) {
      case '&': rep = "&amp;"; break;
      case '<': rep = "&lt;"; break;
      case '>': rep = "&gt;"; break;
      case '"': rep = "&quot;"; break;
      case '\'': rep = "&#39;"; break;
      default: continue;
    }
    out.append(s.data() + start, i - start);
    out += rep;
    start = i + 1;
  }
  out.append(s.data() + start, s.size() - start);
}

size_t EscapedHtmlSize(std::string_view s) {
  size_t size = s.size();
  for (char c : s) {
    switch (c) {
      case '&': size += 4; break;
      case '<':
      case '>': size += 3; break;
      case '"': size += 5; break;
      case '\'': size += 4; break;
      default: break;
    }
  }
  return size;
}

void WriteEscapedHtml(char* out, std::string_view s) {
  for (char c : s) {
    const char* rep;
    size_t n;
    switch (c) {
      case '&': rep = "&amp;", n = 5; break;
      case '<': rep = "&lt;", n = 4; break;
      case '>': rep = "&gt;", n = 4; break;
      case '"': rep = "&quot;", n = 6; break;
      case '\'': rep = "&#39;", n = 5; break;
      default: *out++ = c; continue;
    }
    std::memcpy(out, rep, n);
    out += n;
  }
}

std::string EscapeHtml(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  AppendEscapedHtml(out, s);
  return out;
}

}  // namespace rapport::liquid
