#include "delivery/smtp/dot_stuff.h"

#include <cstdint>
#include <cstring>

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

}  // namespace rapport::delivery
