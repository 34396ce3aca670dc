// The request line and fields of an HTTP/1.x request, and a response's bytes, for the server's
// fast lane (fast_lane.h). Pure: no I/O; fuzzed (fuzz/http_head_fuzz.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.h"

namespace rapport::http {

// The request line and fields at the start of a buffer, parsed strictly: a method token, an
// origin-form target of visible ASCII, HTTP/1.0 or HTTP/1.1, fields `name: value` ended by CRLF,
// an empty line. What the lane does not take (obsolete line folding, bare LF, a control character,
// a field name that is not a token, more than kMaxFields fields) is kUnusual: the caller hands the
// request to the full parser, which decides whether it is an error.
struct RequestHead {
  static constexpr size_t kMaxFields = 64;
  std::string_view method;
  std::string_view target;
  int minor = 1;                                                      // HTTP/1.minor
  std::vector<std::pair<std::string_view, std::string_view>> fields;  // as sent, values trimmed
  size_t size = 0;         // bytes of the head, its final CRLF CRLF included
  bool keep_alive = true;  // from the version and the Connection field's tokens
  bool has_body = false;   // Content-Length other than 0, or Transfer-Encoding
  bool expect = false;     // an Expect field
};
enum class HeadParse { kIncomplete, kComplete, kUnusual };
HeadParse ParseRequestHead(std::string_view data, RequestHead& head);

// Appends the response as HTTP/1.minor: status line, Content-Type, the extra fields,
// Content-Length, Connection when it differs from the version's default, then the body unless
// `head_only` (an answer to HEAD). False, appending nothing, when a field name or value holds CR,
// LF or NUL (never written: the caller answers 500 instead).
bool AppendResponse(const Response& r, int minor, bool keep_alive, bool head_only, std::string& out);

}  // namespace rapport::http
