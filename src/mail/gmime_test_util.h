// Test helpers: GMime (an independent MIME implementation) to decode what the writer wrote,
// and checks of the line rules every message must keep. Used by the mail tests only.
#pragma once

#include <gmime/gmime.h>

#include <random>
#include <string>
#include <string_view>

namespace rapport::mail::testing {

inline void InitGMime() {
  static const bool done = [] {
    g_mime_init();
    return true;
  }();
  (void)done;
}

// Unfolds a written header line ("Name: value\r\n ...\r\n") and decodes its value with
// g_mime_utils_header_decode_text. The one space the writer puts after the colon is dropped.
inline std::string GMimeDecodeHeader(std::string_view header) {
  InitGMime();
  size_t colon = header.find(':');
  std::string value;
  for (char c : header.substr(colon + 1))
    if (c != '\r' && c != '\n') value.push_back(c);
  if (!value.empty() && value[0] == ' ') value.erase(0, 1);
  char* decoded = g_mime_utils_header_decode_text(nullptr, value.c_str());
  std::string r = decoded ? decoded : "";
  g_free(decoded);
  return r;
}

// Empty when every line of `s` ends in CRLF, has no bare CR or LF and is at most `max_line`
// octets; otherwise a description of the first violation.
inline std::string CheckLines(std::string_view s, size_t max_line = 998) {
  size_t line_start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      if (i + 1 >= s.size() || s[i + 1] != '\n') return "bare CR at " + std::to_string(i);
      if (i - line_start > max_line)
        return "line of " + std::to_string(i - line_start) + " octets at " + std::to_string(line_start);
      ++i;
      line_start = i + 1;
    } else if (s[i] == '\n') {
      return "bare LF at " + std::to_string(i);
    }
  }
  if (line_start != s.size()) return "no CRLF at the end";
  return "";
}

// Random UTF-8 text mixing ASCII words, spaces, accents, CJK, emoji and tricky sequences.
inline std::string RandomUtf8(std::mt19937& rng, size_t max_chars, bool allow_newlines) {
  static const char* const kPieces[] = {
      "a",    "Z",        "0",     " ",      "  ", "=",
      "?",    "_",        "=?",    "?=",     "\"", "\\",
      ".",    ",",        "<",     ">",      "@",  "é",
      "ü",    "ß",        "€",     "日本",   "語", "😀",
      "Ω",    "\xc2\xa0", "From ", "--=_rp", "\t", "https://example.com/a?b=c&d=e",
      "word", "Lorem",    "ipsum",
  };
  static const char* const kNewlines[] = {"\r\n", "\n", "\r", "\n\n", "\r\n.\r\n", "\n.", "\nFrom "};
  std::uniform_int_distribution<size_t> len(0, max_chars);
  std::uniform_int_distribution<size_t> piece(0, std::size(kPieces) - 1);
  std::uniform_int_distribution<size_t> nl(0, std::size(kNewlines) - 1);
  std::uniform_int_distribution<int> pct(0, 99);
  std::string s;
  const size_t n = len(rng);
  for (size_t i = 0; i < n; ++i) {
    int p = pct(rng);
    if (allow_newlines && p < 6) {
      s += kNewlines[nl(rng)];
    } else if (p < 8) {
      s.append(std::uniform_int_distribution<size_t>(50, 1200)(rng), 'x');  // a long run
    } else {
      const char* piece_text = kPieces[piece(rng)];
      if (!allow_newlines && piece_text[0] == '\t') continue;
      s += piece_text;
    }
  }
  return s;
}

}  // namespace rapport::mail::testing
