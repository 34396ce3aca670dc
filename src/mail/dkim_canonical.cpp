#include "mail/dkim_canonical.h"

#include <bit>
#include <cstdint>
#include <cstring>

namespace rapport::mail {
namespace {

constexpr uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;
constexpr uint64_t Repeat(char c) { return 0x0101010101010101ULL * static_cast<unsigned char>(c); }

// 0x80 in each byte of `w` equal to the byte of `pattern`, 0 elsewhere (exact: no carries
// between bytes, since no byte sum exceeds 0xFF).
inline uint64_t BytesEqual(uint64_t w, uint64_t pattern) {
  const uint64_t x = w ^ pattern;
  return ~(((x & kLow7) + kLow7) | x | kLow7);
}

}  // namespace

size_t RelaxedBodyPrefix(std::string_view body) {
  constexpr size_t npos = std::string_view::npos;
  if constexpr (std::endian::native != std::endian::little) return npos;  // the general path
  const size_t n = body.size();
  if (n < 2 || body[n - 2] != '\r' || body[n - 1] != '\n') return n == 0 ? 0 : npos;
  // A tab, two spaces, or a space before CR means a line to rewrite (a space before CR that is
  // not a line end would not, but it is rare enough to leave to the general path).
  const char* p = body.data();
  bool prev_space = false;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    const uint64_t space = BytesEqual(w, Repeat(' '));
    const uint64_t space_or_cr = space | BytesEqual(w, Repeat('\r'));
    // Byte k's flag at bit 8k+7; `>> 8` lines byte k+1's flag up with byte k's.
    if (BytesEqual(w, Repeat('\t')) | (space & (space_or_cr >> 8))) return npos;
    if (prev_space && (space_or_cr & 0x80)) return npos;
    prev_space = (space >> 63) != 0;
  }
  for (; i < n; ++i) {
    const char c = p[i];
    if (c == '\t' || (prev_space && (c == ' ' || c == '\r'))) return npos;
    prev_space = c == ' ';
  }
  // Every line is empty or ends in content: drop the trailing empty lines.
  size_t keep = n;
  while (keep >= 4 && std::memcmp(p + keep - 4, "\r\n\r\n", 4) == 0) keep -= 2;
  return keep == 2 ? 0 : keep;
}

SplitMessage SplitHeaders(std::string_view message) {
  SplitMessage result;
  size_t i = 0;
  const size_t n = message.size();
  while (i < n) {
    // An empty line ends the header block.
    if (message.compare(i, 2, "\r\n") == 0) {
      result.body = message.substr(i + 2);
      return result;
    }
    size_t start = i;
    size_t end;
    // The field runs until a line end that is followed by a non-WSP character.
    for (;;) {
      end = message.find("\r\n", i);
      if (end == std::string_view::npos) {
        end = n;
        i = n;
        break;
      }
      i = end + 2;
      if (i < n && (message[i] == ' ' || message[i] == '\t')) continue;
      break;
    }
    std::string_view raw = message.substr(start, end - start);
    size_t colon = raw.find(':');
    if (colon == std::string_view::npos) continue;  // not a header field; ignore it
    std::string_view name = raw.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    result.headers.push_back({name, raw});
  }
  return result;
}

void AppendRelaxedHeader(std::string& out, std::string_view raw_field, bool crlf) {
  size_t colon = raw_field.find(':');
  if (colon == std::string_view::npos) colon = raw_field.size();
  std::string_view name = raw_field.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  for (char c : name) out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  out.push_back(':');
  bool in_wsp = false;
  bool started = false;  // WSP right after the colon is dropped
  for (size_t k = colon + 1; k < raw_field.size(); ++k) {
    const char c = raw_field[k];
    if (c == '\r' || c == '\n') continue;  // unfold
    if (c == ' ' || c == '\t') {
      in_wsp = true;
      continue;
    }
    if (in_wsp && started) out.push_back(' ');
    in_wsp = false;
    started = true;
    out.push_back(c);
  }
  if (crlf) out.append("\r\n");
}

std::string RelaxedBody(std::string_view body) {
  std::string out;
  RelaxedBodyCanonicalizer::Run(body, [&](std::string_view s) { out.append(s); });
  return out;
}

}  // namespace rapport::mail
