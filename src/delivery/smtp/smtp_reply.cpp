#include "delivery/smtp/smtp_reply.h"

#include <cstring>

namespace rapport::delivery {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads 1-3 digits at s[i], advancing i; false when there are none or more than three.
bool Digits(std::string_view s, size_t& i) {
  size_t start = i;
  while (i < s.size() && IsDigit(s[i]) && i - start < 4) ++i;
  return i > start && i - start <= 3;
}

}  // namespace

std::string SmtpReply::Text() const {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += '\n';
    out += lines[i];
  }
  return out;
}

std::string SmtpReply::ToString() const {
  std::string out = std::to_string(code);
  if (!enhanced_code.empty()) out += " " + enhanced_code;
  std::string text = Text();
  if (!text.empty()) out += " " + text;
  return out;
}

std::string SplitEnhancedCode(std::string_view text, std::string_view& rest) {
  rest = text;
  if (text.size() < 5) return {};
  char cls = text[0];
  if (cls != '2' && cls != '4' && cls != '5') return {};
  if (text[1] != '.') return {};
  size_t i = 2;
  if (!Digits(text, i) || i >= text.size() || text[i] != '.') return {};
  ++i;
  if (!Digits(text, i)) return {};
  if (i < text.size() && text[i] != ' ' && text[i] != '\t') return {};
  std::string code(text.substr(0, i));
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  rest = text.substr(i);
  return code;
}

Result<size_t> ParseReply(std::string_view buf, SmtpReply& out) {
  out = SmtpReply{};
  size_t pos = 0;
  for (;;) {
    const void* nl = std::memchr(buf.data() + pos, '\n', buf.size() - pos);
    if (nl == nullptr) {
      if (buf.size() - pos > kMaxReplyLineLength) {
        return Error::BadRequest("SMTP reply line too long");
      }
      return size_t{0};
    }
    size_t end = static_cast<const char*>(nl) - buf.data();
    std::string_view line = buf.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxReplyLineLength) return Error::BadRequest("SMTP reply line too long");
    if (line.size() < 3 || !IsDigit(line[0]) || !IsDigit(line[1]) || !IsDigit(line[2]) || line[0] < '2' ||
        line[0] > '5') {
      return Error::BadRequest("not an SMTP reply: '" + std::string(line.substr(0, 64)) + "'");
    }
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    char sep = line.size() > 3 ? line[3] : ' ';
    if (sep != ' ' && sep != '-') {
      return Error::BadRequest("bad SMTP reply separator: '" + std::string(line.substr(0, 64)) + "'");
    }
    if (out.lines.empty()) {
      out.code = code;
    } else if (code != out.code) {
      return Error::BadRequest("SMTP multi-line reply changes its code");
    }
    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    std::string_view rest = text;
    std::string enhanced = SplitEnhancedCode(text, rest);
    if (out.lines.empty()) {
      out.enhanced_code = std::move(enhanced);
    }
    // The enhanced code is stripped from every line that repeats it (servers repeat it per line).
    out.lines.emplace_back(rest);
    if (out.lines.size() > kMaxReplyLines) return Error::BadRequest("SMTP reply has too many lines");
    pos = end + 1;
    if (sep == ' ') return pos;
  }
}

}  // namespace rapport::delivery
