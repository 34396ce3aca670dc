#include "mail/body_encoding.h"

#include "core/encoding.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace rapport::mail {
namespace {

constexpr size_t k7bitMaxLine = 78;
constexpr size_t kQpMaxLine = 76;  // including the '=' of a soft line break
constexpr size_t kBase64Line = 76;
// The shared alphabets (core/encoding.h); the loops below are this file's own, tuned for bodies.
constexpr const char* kHex = kHexDigitsUpper;
constexpr const char* kBase64 = kBase64Alphabet;

// Calls fn(line) for each line of `body` without its line end (CRLF, LF or CR, one line end
// each). A body that ends with a line end has no empty last line; an empty body has no lines.
// memchr keeps this at memory speed.
template <typename Fn>
void ForEachLineExact(std::string_view body, Fn&& fn) {
  const char* p = body.data();
  const char* const end = p + body.size();
  auto find = [end](const char* from, char c) {
    const void* r = std::memchr(from, c, static_cast<size_t>(end - from));
    return r ? static_cast<const char*>(r) : end;
  };
  const char* next_cr = find(p, '\r');
  const char* next_lf = find(p, '\n');
  while (p < end) {
    if (next_cr < p) next_cr = find(p, '\r');
    if (next_lf < p) next_lf = find(p, '\n');
    const char* q = next_cr < next_lf ? next_cr : next_lf;
    fn(std::string_view(p, static_cast<size_t>(q - p)));
    if (q == end) break;
    p = (*q == '\r' && q + 1 < end && q[1] == '\n') ? q + 2 : q + 1;
  }
}

// Byte classes: 0 printable ASCII or TAB (7bit, literal in quoted-printable), 1 '=' (7bit but
// escaped in quoted-printable), 2 anything else (not 7bit, escaped).
struct ByteClasses {
  unsigned char v[256];
  constexpr ByteClasses() : v() {
    for (int c = 0; c < 256; ++c) v[c] = (c >= 0x20 && c < 0x7F) || c == '\t' ? 0 : 2;
    v[static_cast<unsigned char>('=')] = 1;
  }
};
constexpr ByteClasses kClass;

// SWAR: whether any of 8 bytes is not of class 0 (a TAB is flagged too; callers then look at
// the bytes one by one).
inline bool AnySpecial8(const char* p) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  uint64_t w;
  std::memcpy(&w, p, 8);
  auto has_zero = [&](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return ((w & kHigh) | below_space | has_zero(w ^ (kOnes * 0x7F)) | has_zero(w ^ (kOnes * '='))) != 0;
}

// The number of class-0 bytes at the start of p[0, max).
inline size_t LiteralRun(const char* p, size_t max) {
  size_t j = 0;
  while (j + 8 <= max && !AnySpecial8(p + j)) j += 8;
  while (j < max && kClass.v[static_cast<unsigned char>(p[j])] == 0) ++j;
  return j;
}

bool StartsWithFrom(std::string_view line, size_t i) {
  return line.size() - i >= 5 && std::memcmp(line.data() + i, "From ", 5) == 0;
}

bool QpLiteral(unsigned char c) { return c >= 33 && c <= 126 && c != '='; }

inline char* PutEscape(char* w, unsigned char c) {
  w[0] = '=';
  w[1] = kHex[c >> 4];
  w[2] = kHex[c & 15];
  return w + 3;
}

// Appends one line as quoted-printable followed by CRLF. Writes through a pointer into space
// sized for the worst case (every byte escaped plus soft breaks), then trims.
void AppendQpLine(std::string& out, std::string_view line) {
  const size_t n = line.size();
  const size_t start = out.size();
  out.resize(start + 4 * n + 8);
  char* const base = out.data() + start;
  char* w = base;
  size_t col = 0;
  for (size_t i = 0; i < n; ++i) {
    // Fast path: a run of literal characters that fits before a soft break, leaving out a
    // space or tab that would end the line and a '.' or "From " at the start of a line.
    if (col > 0 || (line[i] != '.' && !StartsWithFrom(line, i))) {
      const size_t stop = std::min(n, i + (kQpMaxLine - 1 - col));
      size_t j = i + LiteralRun(line.data() + i, stop - i);
      if (j == n && j > i && (line[j - 1] == ' ' || line[j - 1] == '\t')) --j;
      if (j > i) {
        std::memcpy(w, line.data() + i, j - i);
        w += j - i;
        col += j - i;
        i = j - 1;
        continue;
      }
    }
    const unsigned char c = line[i];
    const bool last = i + 1 == n;
    // Escape '.' and the 'F' of "From " at the start of an output line, '=' and non-printables
    // everywhere, and a space or tab that would end the line.
    bool escape;
    if (c == ' ' || c == '\t') {
      escape = last;
    } else if (!QpLiteral(c)) {
      escape = true;
    } else if (col == 0 && (c == '.' || (c == 'F' && StartsWithFrom(line, i)))) {
      escape = true;
    } else {
      escape = false;
    }
    const size_t width = escape ? 3 : 1;
    // Room for this character plus a soft break '=' unless it is the last one of the line.
    if (col + width + (last ? 0 : 1) > kQpMaxLine) {
      w[0] = '=';
      w[1] = '\r';
      w[2] = '\n';
      w += 3;
      col = 0;
      if (c == '.' || (c == 'F' && StartsWithFrom(line, i))) {
        w = PutEscape(w, c);
        col = 3;
        continue;
      }
    }
    if (escape) {
      w = PutEscape(w, c);
    } else {
      *w++ = static_cast<char>(c);
    }
    col += width;
  }
  w[0] = '\r';
  w[1] = '\n';
  w += 2;
  out.resize(start + static_cast<size_t>(w - base));
}

// Appends `data` as base64 in lines of 76 characters, each ending in CRLF.
void AppendBase64Lines(std::string& out, std::string_view data) {
  const size_t n = data.size();
  if (n == 0) return;
  const size_t chars = (n + 2) / 3 * 4;
  const size_t lines = (chars + kBase64Line - 1) / kBase64Line;
  const size_t start = out.size();
  out.resize(start + chars + 2 * lines);
  char* w = out.data() + start;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t i = 0, col = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    w[0] = kBase64[v >> 18];
    w[1] = kBase64[(v >> 12) & 63];
    w[2] = kBase64[(v >> 6) & 63];
    w[3] = kBase64[v & 63];
    w += 4;
    col += 4;
    if (col == kBase64Line) {
      w[0] = '\r';
      w[1] = '\n';
      w += 2;
      col = 0;
    }
  }
  if (i < n) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (i + 1 < n) v |= uint32_t{p[i + 1]} << 8;
    w[0] = kBase64[v >> 18];
    w[1] = kBase64[(v >> 12) & 63];
    w[2] = i + 1 < n ? kBase64[(v >> 6) & 63] : '=';
    w[3] = '=';
    w += 4;
    col += 4;
  }
  if (col > 0) {
    w[0] = '\r';
    w[1] = '\n';
  }
}

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
  unsigned other = 0;  // any byte of class 2 seen
  const size_t n = body.size();
  // Past this many escaped bytes base64 is shorter than quoted-printable (see below).
  const size_t b64_size = (n + 2) / 3 * 4 + n / 57 * 2;
  const size_t qp_base = n + n / 75 * 3;
  const size_t max_escapes = b64_size > qp_base ? (b64_size - qp_base) / 2 : 0;
  bool over = false;
  ForEachLineExact(body, [&](std::string_view line) {
    if (over) return;
    if (line.size() > k7bitMaxLine || StartsWithFrom(line, 0)) seven_bit = false;
    const size_t len = line.size();
    size_t i = 0;
    while (i < len) {
      i += LiteralRun(line.data() + i, len - i);
      // A run of special bytes (non-ASCII text comes in runs).
      while (i < len) {
        const unsigned k = kClass.v[static_cast<unsigned char>(line[i])];
        if (k == 0) break;
        ++escapes;
        other |= k & 2;
        ++i;
      }
    }
    if (other != 0 && escapes > max_escapes) over = true;
  });
  if (over) return TransferEncoding::kBase64;
  if (seven_bit && other == 0) return TransferEncoding::k7bit;
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
      // Base64 encodes the canonical (CRLF) text; build it in a per-thread scratch buffer.
      thread_local std::string scratch;
      scratch.clear();
      ForEachLineExact(body, [&](std::string_view line) {
        scratch.append(line);
        scratch.append("\r\n");
      });
      AppendBase64Lines(out, scratch);
      if (scratch.capacity() > (1u << 20)) std::string().swap(scratch);  // do not pin big buffers
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
