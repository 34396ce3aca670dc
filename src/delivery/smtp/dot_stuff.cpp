#include "delivery/smtp/dot_stuff.h"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace rapport::delivery {

void AppendDotStuffed(std::string_view data, std::string& out) {
  // Worst case every byte is a line end needing a CR or a dot: reserve a little extra and let
  // the string grow in the rare pathological case.
  out.reserve(out.size() + data.size() + data.size() / 64 + 8);
  const char* p = data.data();
  const char* end = p + data.size();
  bool line_start = true;
  while (p < end) {
    if (line_start && *p == '.') out.push_back('.');
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (nl == nullptr) {
      out.append(p, end - p);
      out.append("\r\n", 2);
      out.append(".\r\n", 3);
      return;
    }
    if (nl > p && nl[-1] == '\r') {
      out.append(p, nl + 1 - p);
    } else {
      out.append(p, nl - p);
      out.append("\r\n", 2);
    }
    p = nl + 1;
    line_start = true;
  }
  out.append(".\r\n", 3);
}

bool IsTransparent(std::string_view data) {
  if (data.size() < 2 || data[data.size() - 2] != '\r' || data.back() != '\n') return false;
  if (data.front() == '.') return false;
  const char* p = data.data();
  const char* end = p + data.size();
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (nl == nullptr) return false;
    if (nl == data.data() || nl[-1] != '\r') return false;
    if (nl + 1 < end && nl[1] == '.') return false;
    p = nl + 1;
  }
  return true;
}

bool HasEightBitBytes(std::string_view data) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  size_t i = 0;
  uint64_t acc = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    acc |= w;
  }
  for (; i < n; ++i) acc |= p[i];
  return (acc & 0x8080808080808080ULL) != 0;
}

MessageShape InspectMessage(std::string_view data) {
  MessageShape shape;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  bool ok = n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n' && p[0] != '.';
  // A line end at i is fine when preceded by CR and not followed by '.'.
  auto lf_ok = [&](size_t i) { return i > 0 && p[i - 1] == '\r' && (i + 1 >= n || p[i + 1] != '.'); };
  size_t i = 0;
#if defined(__SSE2__)
  // 16 bytes at a time: a mask of the line feeds, and the high bits of every byte.
  const __m128i lf = _mm_set1_epi8('\n');
  __m128i high = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    high = _mm_or_si128(high, v);
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)));
    while (mask != 0 && ok) {
      ok = lf_ok(i + static_cast<size_t>(__builtin_ctz(mask)));
      mask &= mask - 1;
    }
  }
  shape.eight_bit = _mm_movemask_epi8(high) != 0;
#endif
  for (; i < n; ++i) {
    if (p[i] & 0x80) shape.eight_bit = true;
    if (p[i] == '\n' && ok) ok = lf_ok(i);
  }
  shape.transparent = ok;
  return shape;
}

}  // namespace rapport::delivery
