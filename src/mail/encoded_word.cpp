#include "mail/encoded_word.h"

#include <algorithm>
#include <vector>

#include "core/encoding.h"
#include "mail/header_text.h"

namespace rapport::mail {
namespace {

constexpr size_t kMaxEncodedWord = 75;  // RFC 2047 section 2
constexpr std::string_view kQPrefix = "=?UTF-8?Q?";
constexpr std::string_view kBPrefix = "=?UTF-8?B?";

// The length of the UTF-8 sequence that starts with `c` (the input is validated first).
size_t Utf8Length(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  return 4;
}

// Characters written as themselves in a Q encoded word. In a phrase only letters, digits and
// "!*+-/" are allowed (RFC 2047 5 (3)); we use that set everywhere, it is safe in both.
bool QSafe(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '!' || c == '*' ||
         c == '+' || c == '-' || c == '/';
}

size_t QCost(unsigned char c) { return (QSafe(c) || c == ' ') ? 1 : 3; }

void AppendQ(std::string& out, std::string_view bytes) {
  for (unsigned char c : bytes) {
    if (QSafe(c)) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('_');
    } else {
      out.push_back('=');
      out.push_back(kHexDigitsUpper[c >> 4]);
      out.push_back(kHexDigitsUpper[c & 15]);
    }
  }
}

// The payload budget of the first encoded word on a line at `column`: 75 characters in all,
// and it also tries to end the line by column 78 (0: start a new line first).
size_t FirstWordBudget(size_t column, size_t overhead, bool* fold) {
  size_t budget = kMaxEncodedWord - overhead;
  *fold = false;
  if (column + 1 + kMaxEncodedWord > kFoldAt) {
    size_t room = kFoldAt > column + 1 + overhead ? kFoldAt - column - 1 - overhead : 0;
    if (room >= 12) {
      budget = std::min(budget, room);
    } else if (column > 1) {
      *fold = true;
    }
  }
  return budget;
}

// Where each encoded word ends (byte offsets into `text`), or an empty vector when base64
// words cannot be cut so that every word but the last holds a multiple of 3 bytes. (GMime,
// like some other readers, joins the base64 text of adjacent words before decoding, so padding
// in the middle would lose the rest of the header.)
std::vector<size_t> PlanWords(std::string_view text, bool use_q, size_t budget_first, size_t budget_rest) {
  std::vector<size_t> ends;
  size_t i = 0;
  size_t budget = budget_first;
  while (i < text.size()) {
    if (!use_q) budget = budget / 4 * 3;  // payload bytes per base64 word
    size_t end = i, cost = 0, aligned = 0;
    while (end < text.size()) {
      size_t len = Utf8Length(static_cast<unsigned char>(text[end]));
      size_t c = 0;
      if (use_q) {
        for (size_t k = 0; k < len; ++k) c += QCost(static_cast<unsigned char>(text[end + k]));
      } else {
        c = len;
      }
      if (cost + c > budget && end > i) break;
      cost += c;
      end += len;
      if ((end - i) % 3 == 0) aligned = end;
    }
    if (!use_q && end < text.size()) {
      if (aligned == 0) return {};
      end = aligned;
    }
    ends.push_back(end);
    i = end;
    budget = budget_rest;
  }
  return ends;
}

}  // namespace

void AppendEncodedWords(std::string& out, std::string_view text, size_t& column, bool phrase) {
  (void)phrase;  // QSafe is already the phrase-safe set
  size_t q_len = 0;
  for (unsigned char c : text) q_len += QCost(c);
  const size_t b_len = (text.size() + 2) / 3 * 4;
  bool use_q = q_len <= b_len;
  const size_t overhead = kQPrefix.size() + 2;  // "=?UTF-8?X?" ... "?=" (same for B)
  bool fold = false;
  const size_t budget_first = FirstWordBudget(column, overhead, &fold);
  const size_t budget_rest = kMaxEncodedWord - overhead;
  std::vector<size_t> ends;
  if (!use_q) {
    ends = PlanWords(text, false, fold ? budget_rest : budget_first, budget_rest);
    if (ends.empty()) use_q = true;
  }
  if (use_q) ends = PlanWords(text, true, fold ? budget_rest : budget_first, budget_rest);
  if (fold) {
    out.append("\r\n");
    column = 0;
  }
  size_t i = 0;
  bool first = true;
  for (size_t end : ends) {
    if (!first) {
      out.append("\r\n");
      column = 0;
    }
    const size_t start = out.size();
    out.push_back(' ');
    out.append(use_q ? kQPrefix : kBPrefix);
    if (use_q)
      AppendQ(out, text.substr(i, end - i));
    else
      rapport::AppendBase64(out, text.substr(i, end - i));
    out.append("?=");
    column += out.size() - start;
    i = end;
    first = false;
  }
}

}  // namespace rapport::mail
