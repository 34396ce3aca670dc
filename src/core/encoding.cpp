#include "core/encoding.h"

#include <cstdint>

namespace rapport {

bool IsAtext(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~': return true;
    default: return false;
  }
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendHex(std::string& out, std::string_view bytes, bool upper) {
  const char* digits = upper ? kHexDigitsUpper : kHexDigitsLower;
  for (char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
}

std::string Hex(std::string_view bytes, bool upper) {
  std::string out;
  out.reserve(bytes.size() * 2);
  AppendHex(out, bytes, upper);
  return out;
}

void AppendBase64(std::string& out, std::string_view bytes, Base64Alphabet alphabet) {
  const bool url = alphabet == Base64Alphabet::kUrl;
  const char* a = url ? kBase64UrlAlphabet : kBase64Alphabet;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(a[v >> 18]);
    out.push_back(a[(v >> 12) & 63]);
    out.push_back(a[(v >> 6) & 63]);
    out.push_back(a[v & 63]);
  }
  if (i < n) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (i + 1 < n ? uint32_t{p[i + 1]} << 8 : 0);
    out.push_back(a[v >> 18]);
    out.push_back(a[(v >> 12) & 63]);
    if (i + 1 < n)
      out.push_back(a[(v >> 6) & 63]);
    else if (!url)
      out.push_back('=');
    if (!url) out.push_back('=');
  }
}

std::string Base64(std::string_view bytes, Base64Alphabet alphabet) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  AppendBase64(out, bytes, alphabet);
  return out;
}

}  // namespace rapport
