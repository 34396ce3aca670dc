#include "mail/body_encoding.h"

#include <cstdint>

namespace rapport::mail {
namespace {

constexpr size_t k7bitMaxLine = 78;
constexpr size_t kQpMaxLine = 76;  // including the '=' of a soft line break
constexpr size_t kBase64Line = 76;
constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Splits on CRLF, LF or CR exactly once per line end.
template <typename Fn>
void ForEachLineExact(std::string_view body, Fn&& fn) {
  size_t i = 0;
  const size_t n = body.size();
  while (i < n) {
    size_t j = i;
    while (j < n && body[j] != '\r' && body[j] != '\n') ++j;
    fn(body.substr(i, j - i));
    if (j < n && body[j] == '\r') {
      ++j;
      if (j < n && body[j] == '\n') ++j;
    } else if (j < n) {
      ++j;
    }
    i = j;
  }
}

bool QpLiteral(unsigned char c) { return c >= 33 && c <= 126 && c != '='; }

void PushEscape(std::string& out, unsigned char c) {
  out.push_back('=');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 15]);
}

void AppendQpLine(std::string& out, std::string_view line) {
  size_t col = 0;
  const size_t n = line.size();
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = line[i];
    const bool last = i + 1 == n;
    // Escape '.' and the 'F' of "From " at the start of an output line, '=' and non-printables
    // everywhere, and a space or tab that would end the line.
    bool escape;
    if (c == ' ' || c == '\t') {
      escape = last;
    } else if (!QpLiteral(c)) {
      escape = true;
    } else if (col == 0 && (c == '.' || (c == 'F' && line.substr(i, 5) == "From "))) {
      escape = true;
    } else {
      escape = false;
    }
    const size_t width = escape ? 3 : 1;
    // Room for this character plus a soft break '=' unless it is the last one of the line.
    if (col + width + (last ? 0 : 1) > kQpMaxLine) {
      out.append("=\r\n");
      col = 0;
      if (c == '.' || (c == 'F' && line.substr(i, 5) == "From ")) {
        PushEscape(out, c);
        col = 3;
        continue;
      }
    }
    if (escape) {
      PushEscape(out, c);
    } else {
      out.push_back(static_cast<char>(c));
    }
    col += width;
  }
  out.append("\r\n");
}

// Streams bytes into base64 lines of 76 characters.
class Base64Writer {
 public:
  explicit Base64Writer(std::string& out) : out_(out) {}
  void Put(unsigned char c) {
    buf_ = (buf_ << 8) | c;
    if (++n_ == 3) Flush3();
  }
  void Put(std::string_view s) {
    for (unsigned char c : s) Put(c);
  }
  void Finish() {
    if (n_ == 1) {
      uint32_t v = buf_ << 16;
      Emit(kBase64[v >> 18]);
      Emit(kBase64[(v >> 12) & 63]);
      Emit('=');
      Emit('=');
    } else if (n_ == 2) {
      uint32_t v = buf_ << 8;
      Emit(kBase64[v >> 18]);
      Emit(kBase64[(v >> 12) & 63]);
      Emit(kBase64[(v >> 6) & 63]);
      Emit('=');
    }
    if (col_ > 0) out_.append("\r\n");
  }

 private:
  void Flush3() {
    Emit(kBase64[(buf_ >> 18) & 63]);
    Emit(kBase64[(buf_ >> 12) & 63]);
    Emit(kBase64[(buf_ >> 6) & 63]);
    Emit(kBase64[buf_ & 63]);
    buf_ = 0;
    n_ = 0;
  }
  void Emit(char c) {
    out_.push_back(c);
    if (++col_ == kBase64Line) {
      out_.append("\r\n");
      col_ = 0;
    }
  }
  std::string& out_;
  uint32_t buf_ = 0;
  int n_ = 0;
  size_t col_ = 0;
};

}  // namespace

std::string_view TransferEncodingName(TransferEncoding e) {
  switch (e) {
    case TransferEncoding::k7bit: return "7bit";
    case TransferEncoding::kQuotedPrintable: return "quoted-printable";
    case TransferEncoding::kBase64: return "base64";
  }
  return "7bit";
}

TransferEncoding ChooseTransferEncoding(std::string_view body) {
  bool seven_bit = body.find("--=_") == std::string_view::npos;
  size_t escapes = 0;  // bytes that quoted-printable writes as =XX
  size_t line_len = 0;
  bool line_start = true;
  const size_t n = body.size();
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = body[i];
    if (c == '\r' || c == '\n') {
      line_len = 0;
      line_start = true;
      continue;
    }
    if (line_start && c == 'F' && body.substr(i, 5) == "From ") seven_bit = false;
    line_start = false;
    if (++line_len > k7bitMaxLine) seven_bit = false;
    if (c == '\t') continue;
    if (c < 0x20 || c >= 0x7F) {
      seven_bit = false;
      ++escapes;
    } else if (c == '=') {
      ++escapes;
    }
  }
  if (seven_bit) return TransferEncoding::k7bit;
  // Quoted-printable grows by 2 per escaped byte (plus soft breaks, ~1/75); base64 by 1/3.
  const size_t qp = n + 2 * escapes + n / 75 * 3;
  const size_t b64 = (n + 2) / 3 * 4 + n / 57 * 2;
  return qp <= b64 ? TransferEncoding::kQuotedPrintable : TransferEncoding::kBase64;
}

void AppendEncodedBody(std::string& out, std::string_view body, TransferEncoding encoding) {
  switch (encoding) {
    case TransferEncoding::k7bit:
      ForEachLineExact(body, [&](std::string_view line) {
        out.append(line);
        out.append("\r\n");
      });
      return;
    case TransferEncoding::kQuotedPrintable:
      ForEachLineExact(body, [&](std::string_view line) { AppendQpLine(out, line); });
      return;
    case TransferEncoding::kBase64: {
      Base64Writer w(out);
      ForEachLineExact(body, [&](std::string_view line) {
        w.Put(line);
        w.Put('\r');
        w.Put('\n');
      });
      w.Finish();
      return;
    }
  }
}

std::string CanonicalizeLineEnds(std::string_view body) {
  std::string out;
  out.reserve(body.size() + body.size() / 16 + 2);
  ForEachLineExact(body, [&](std::string_view line) {
    out.append(line);
    out.append("\r\n");
  });
  return out;
}

}  // namespace rapport::mail
