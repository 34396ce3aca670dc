// DKIM "relaxed" canonicalization (RFC 6376 section 3.4.2 and 3.4.4) and the header parsing it
// needs. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rapport::mail {

// One header field of a message as it stands: `name` as written, `raw` the whole field from
// the first character of the name to the end of its last line, without the final CRLF.
struct RawHeaderField {
  std::string_view name;
  std::string_view raw;
};

// Splits a message at the first empty line. Header fields are recognized by their first line
// (continuation lines start with SP or TAB). `body` is everything after the empty line; a
// message without one has all headers and an empty body.
struct SplitMessage {
  std::vector<RawHeaderField> headers;
  std::string_view body;
};
SplitMessage SplitHeaders(std::string_view message);

// Appends the relaxed form of a header field: lower-case name, ':', the value unfolded, runs
// of WSP made one SP, WSP around the colon and at the end removed, then CRLF unless `crlf` is
// false (the DKIM-Signature field itself is hashed without it).
void AppendRelaxedHeader(std::string& out, std::string_view raw_field, bool crlf = true);

// Relaxed body canonicalization, streamed: feed the body in any pieces, then Finish(). Lines
// end in CRLF; runs of WSP inside a line become one SP, WSP at line ends and empty lines at the
// end of the body are removed; a non-empty body ends with CRLF; an empty body stays empty.
class RelaxedBodyCanonicalizer {
 public:
  // `sink` receives the canonical bytes in order.
  template <typename Sink>
  static void Run(std::string_view body, Sink&& sink);
};

// The canonical body as a string (for tests); DkimSigner streams it into the hash instead.
std::string RelaxedBody(std::string_view body);

// The length of `body`'s relaxed form when that form is a prefix of it (the common case: no
// tab, no run of spaces, no space before a CR, ends in CRLF; only trailing empty lines go);
// npos when some line must be rewritten. One word-at-a-time pass.
size_t RelaxedBodyPrefix(std::string_view body);

template <typename Sink>
void RelaxedBodyCanonicalizer::Run(std::string_view body, Sink&& sink) {
  // Most bodies are canonical as written but for trailing empty lines: one span.
  if (const size_t prefix = RelaxedBodyPrefix(body); prefix != std::string_view::npos) {
    if (prefix > 0) sink(body.substr(0, prefix));
    return;
  }
  // Otherwise most lines still are: they go to `sink` as spans of `body`, many lines per call.
  // Only a line with WSP to fold or strip (or without its CRLF) is rewritten.
  const size_t n = body.size();
  size_t span_begin = 0;  // body[span_begin, span_end) is canonical output not yet sunk
  size_t span_end = 0;
  size_t pending_empty = 0;      // empty lines held back until a non-empty line follows
  bool pending_verbatim = true;  // ... each exactly "\r\n", starting at span_end
  std::string line;
  auto flush = [&] {
    if (span_end > span_begin) sink(body.substr(span_begin, span_end - span_begin));
  };
  size_t i = 0;
  while (i < n) {
    size_t end = body.find("\r\n", i);
    const bool terminated = end != std::string_view::npos;
    const size_t next = terminated ? end + 2 : n;
    if (!terminated) end = n;
    bool has_content = false;
    bool canonical = terminated && (end == i || body[end - 1] != ' ');
    char prev = 0;
    for (size_t k = i; k < end; ++k) {
      const char c = body[k];
      if (c == '\t' || (c == ' ' && prev == ' '))
        canonical = false;
      else if (c != ' ')
        has_content = true;
      prev = c;
    }
    if (!has_content) {
      if (pending_empty == 0) pending_verbatim = i == span_end;
      pending_verbatim = pending_verbatim && terminated && end == i;
      ++pending_empty;
      i = next;
      continue;
    }
    if (pending_empty > 0) {
      if (pending_verbatim) {
        span_end = i;  // the empty lines as written
      } else {
        flush();
        for (; pending_empty > 0; --pending_empty) sink(std::string_view("\r\n"));
        span_begin = span_end = i;
      }
      pending_empty = 0;
    }
    if (canonical && i == span_end) {
      span_end = next;
    } else {
      flush();
      line.clear();
      bool in_wsp = false;
      for (size_t k = i; k < end; ++k) {
        const char c = body[k];
        if (c == ' ' || c == '\t') {
          in_wsp = true;
        } else {
          if (in_wsp) line.push_back(' ');
          in_wsp = false;
          line.push_back(c);
        }
      }
      line.append("\r\n");
      sink(std::string_view(line));
      span_begin = span_end = next;
    }
    i = next;
  }
  flush();
}

}  // namespace rapport::mail
