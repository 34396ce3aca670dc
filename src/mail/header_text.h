// Small rules the header writers share (header.cpp, encoded_word.cpp, mailbox.cpp): where lines
// fold, how long an unbroken run may be, what counts as printable ASCII. Pure; thread-safe.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace rapport::mail {

inline constexpr size_t kFoldAt = 78;        // preferred line length (RFC 5322 2.1.1)
inline constexpr size_t kMaxPlainRun = 900;  // a longer run without a space is encoded instead

inline bool IsPlainAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7F; });
}

// A header name lower-cased, as error fields name it ("Subject" -> "subject").
inline std::string LowerHeaderName(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

}  // namespace rapport::mail
