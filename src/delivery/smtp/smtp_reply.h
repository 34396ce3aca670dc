// SMTP replies (RFC 5321 §4.2) and RFC 3463 enhanced status codes: parsing only, pure.
//
// ParseReply reads one complete, possibly multi-line reply ("250-a\r\n250 b\r\n") from the
// front of a buffer. It returns the number of bytes consumed, 0 when the buffer does not yet
// hold a complete reply, or an Error (kBadRequest) for bytes that are not an SMTP reply (the
// connection is then unusable). Lines may end in CRLF or bare LF. Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace rapport::delivery {

inline constexpr size_t kMaxReplyLineLength = 4096;  // we accept longer than RFC's 512
inline constexpr size_t kMaxReplyLines = 256;

struct SmtpReply {
  int code = 0;
  std::string enhanced_code;       // "4.2.2" from the first line, or empty
  std::vector<std::string> lines;  // the text of each line, without code, separator, enhanced code

  int Class() const { return code / 100; }  // 2, 3, 4, 5
  bool Positive() const { return code >= 200 && code < 400; }
  // The lines joined with "\n".
  std::string Text() const;
  // "550 5.1.1 text" for logs and attempt records.
  std::string ToString() const;
};

// Consumes one reply from the front of `buf` into `out`. See the header comment.
Result<size_t> ParseReply(std::string_view buf, SmtpReply& out);

// Splits a leading RFC 3463 code ("5.1.1 ") from `text`. Returns the code ("" when absent) and
// sets `rest` to the text after it. The class digit must be 2, 4 or 5; subject 0-999 (1-3
// digits), detail 0-999.
std::string SplitEnhancedCode(std::string_view text, std::string_view& rest);

}  // namespace rapport::delivery
