#include "mail/header.h"

#include "mail/fast_random.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>

namespace rapport::mail {
namespace {

constexpr size_t kFoldAt = 78;          // preferred line length (RFC 5322 2.1.1)
constexpr size_t kMaxEncodedWord = 75;  // RFC 2047 section 2
constexpr size_t kMaxPlainRun = 900;    // a longer run without a space is encoded instead
constexpr std::string_view kQPrefix = "=?UTF-8?Q?";
constexpr std::string_view kBPrefix = "=?UTF-8?B?";
constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Lower(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

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
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

void AppendBase64(std::string& out, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size(), i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out.push_back(kBase64[v >> 18]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(kBase64[(v >> 6) & 63]);
    out.push_back(kBase64[v & 63]);
  }
  if (i < n) {
    uint32_t v = p[i] << 16;
    if (i + 1 < n) v |= p[i + 1] << 8;
    out.push_back(kBase64[v >> 18]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(i + 1 < n ? kBase64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
}

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

bool IsPlainAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7F; });
}

// Whether a printable-ASCII value can be written as it is: no "=?" (a decoder would take it for
// an encoded word), no leading or trailing space (decoders strip it), no unbreakable run.
bool CanWritePlain(std::string_view value) {
  if (!IsPlainAscii(value)) return false;
  if (value.find("=?") != std::string_view::npos) return false;
  if (value.front() == ' ' || value.back() == ' ') return false;
  // Each fold point is before a run of spaces; a run of spaces and the word after it stay on
  // one line, so each such segment must stay short.
  size_t i = 0;
  while (i < value.size()) {
    size_t start = i;
    while (i < value.size() && value[i] == ' ') ++i;
    while (i < value.size() && value[i] != ' ') ++i;
    if (i - start > kMaxPlainRun) return false;
  }
  return true;
}

// Writes a printable-ASCII value, folding before a run of spaces when the next word would pass
// column 78 and the line already holds something.
void AppendPlainFolded(std::string& out, std::string_view value, size_t& column, size_t line_start) {
  size_t i = 0;
  while (i < value.size()) {
    size_t word_start = i;
    while (i < value.size() && value[i] == ' ') ++i;
    while (i < value.size() && value[i] != ' ') ++i;
    std::string_view segment = value.substr(word_start, i - word_start);
    if (word_start > 0 && column + segment.size() > kFoldAt && column > line_start) {
      out.append("\r\n");
      column = 0;
      line_start = 1;
    }
    out.append(segment);
    column += segment.size();
  }
}

}  // namespace

Status ValidateHeaderName(std::string_view name) {
  if (name.empty()) return Error::Invalid("header", "a header name is empty");
  if (name.size() > kMaxHeaderNameLength)
    return Error::Invalid(Lower(name), "the header name is longer than 76 characters");
  for (unsigned char c : name) {
    if (c < 0x21 || c > 0x7E || c == ':')
      return Error::Invalid("header", "a header name may hold only printable ASCII without ':'");
  }
  return {};
}

Status ValidateHeaderValue(std::string_view field, std::string_view value) {
  if (value.size() > kMaxHeaderValueLength)
    return Error::Invalid(std::string(field), "the value is too long for a header");
  for (size_t i = 0; i < value.size(); ++i) {
    unsigned char c = value[i];
    if (c == '\r' || c == '\n')
      return Error::Invalid(std::string(field), "a header value may not contain CR or LF");
    if (c < 0x20 || c == 0x7F)
      return Error::Invalid(std::string(field), "a header value may not contain control characters");
    // C1 controls U+0080..U+009F are C2 80..C2 9F in UTF-8.
    if (c == 0xC2 && i + 1 < value.size() && static_cast<unsigned char>(value[i + 1]) < 0xA0 &&
        static_cast<unsigned char>(value[i + 1]) >= 0x80)
      return Error::Invalid(std::string(field), "a header value may not contain control characters");
  }
  if (!IsValidUtf8(value)) return Error::Invalid(std::string(field), "the value is not valid UTF-8");
  return {};
}

namespace {

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
      AppendBase64(out, text.substr(i, end - i));
    out.append("?=");
    column += out.size() - start;
    i = end;
    first = false;
  }
}

Status AppendUnstructuredHeader(std::string& out, std::string_view name, std::string_view value) {
  RAPPORT_TRY(ValidateHeaderName(name));
  RAPPORT_TRY(ValidateHeaderValue(Lower(name), value));
  out.append(name);
  out.push_back(':');
  size_t column = name.size() + 1;
  if (value.empty()) {
    out.append("\r\n");
    return {};
  }
  if (CanWritePlain(value)) {
    out.push_back(' ');
    ++column;
    AppendPlainFolded(out, value, column, column);
  } else {
    AppendEncodedWords(out, value, column, /*phrase=*/false);
  }
  out.append("\r\n");
  return {};
}

Result<std::string> EncodeUnstructuredHeader(std::string_view name, std::string_view value) {
  std::string out;
  out.reserve(name.size() + value.size() * 2 + 16);
  RAPPORT_TRY(AppendUnstructuredHeader(out, name, value));
  return out;
}

Result<Mailbox> ParseMailbox(std::string_view field, std::string_view text) {
  auto trim = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  };
  text = trim(text);
  Mailbox m;
  std::string_view addr = text;
  if (!text.empty() && text.back() == '>') {
    size_t open = text.rfind('<');
    if (open == std::string_view::npos)
      return Error::Invalid(std::string(field), "expected \"Name <address>\" or an address");
    addr = text.substr(open + 1, text.size() - open - 2);
    std::string_view name = trim(text.substr(0, open));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
    if (name.find('"') != std::string_view::npos)
      return Error::Invalid(std::string(field), "the display name may not contain a double quote");
    RAPPORT_TRY(ValidateHeaderValue(field, name));
    m.display_name = std::string(name);
  }
  RAPPORT_ASSIGN_OR_RETURN(m.address, ParseEmailAddress(addr, field));
  RAPPORT_TRY(ValidateAddress(field, m.address));
  return m;
}

Status ValidateAddress(std::string_view field, const EmailAddress& address) {
  const std::string_view local = address.local;
  const std::string_view domain = address.domain;
  if (local.empty() || domain.empty())
    return Error::Invalid(std::string(field), "the address needs a local part and a domain");
  if (local.size() > 64 || domain.size() > 253)
    return Error::Invalid(std::string(field), "the address is too long");
  RAPPORT_TRY(ValidateHeaderValue(field, local));
  const bool quoted = local.size() >= 2 && local.front() == '"' && local.back() == '"';
  for (size_t i = 0; i < local.size(); ++i) {
    unsigned char c = local[i];
    if (quoted) {
      if (i > 0 && i + 1 < local.size() && c == '"' && local[i - 1] != '\\')
        return Error::Invalid(std::string(field), "unescaped quote in the local part");
      continue;
    }
    if (c >= 0x80 || c == '.') continue;
    if (!IsAtext(c))
      return Error::Invalid(std::string(field), "the local part holds a character that needs quoting");
  }
  for (unsigned char c : domain) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return Error::Invalid(std::string(field), "the domain must be ASCII letters, digits, '-' and '.'");
  }
  return {};
}

namespace {

enum class PhraseForm { kAtoms, kQuoted, kEncoded };

PhraseForm ChoosePhraseForm(std::string_view name) {
  if (!IsPlainAscii(name) || name.find("=?") != std::string_view::npos || name.front() == ' ' ||
      name.back() == ' ' || name.size() + std::count_if(name.begin(), name.end(), [](char c) {
                              return c == '"' || c == '\\';
                            }) > kMaxPlainRun)
    return PhraseForm::kEncoded;
  bool atoms = true;
  char prev = 'x';
  for (unsigned char c : name) {
    if (c == ' ') {
      if (prev == ' ') atoms = false;  // two spaces would collapse: keep them quoted
    } else if (!IsAtext(c)) {
      atoms = false;
    }
    prev = static_cast<char>(c);
  }
  return atoms ? PhraseForm::kAtoms : PhraseForm::kQuoted;
}

}  // namespace

void AppendPhrase(std::string& out, std::string_view text, size_t& column, bool fold_first) {
  const PhraseForm form = ChoosePhraseForm(text);
  if (form == PhraseForm::kEncoded) {
    if (fold_first && column > 40) {
      out.append("\r\n");
      column = 0;
    }
    AppendEncodedWords(out, text, column, /*phrase=*/true);
    return;
  }
  size_t len = text.size();
  if (form == PhraseForm::kQuoted) {
    len += 2;
    for (char c : text) len += (c == '"' || c == '\\');
  }
  if (fold_first && column + 1 + len > kFoldAt) {
    out.append("\r\n");
    column = 0;
  }
  out.push_back(' ');
  if (form == PhraseForm::kAtoms) {
    out.append(text);
  } else {
    out.push_back('"');
    for (char c : text) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  column += 1 + len;
}

namespace {

// Writes one mailbox (with the separator that precedes it) at `column`, folding before it when
// it does not fit on the current line.
void AppendMailbox(std::string& out, const Mailbox& m, size_t& column, bool first) {
  const size_t addr_len = m.address.local.size() + 1 + m.address.domain.size();
  if (!first) {
    out.push_back(',');
    ++column;
  }
  if (m.display_name.empty()) {
    if (!first && column + 1 + addr_len > kFoldAt) {
      out.append("\r\n");
      column = 0;
    }
    out.push_back(' ');
    out.append(m.address.local).push_back('@');
    out.append(m.address.domain);
    column += 1 + addr_len;
    return;
  }
  AppendPhrase(out, m.display_name, column, /*fold_first=*/!first);
  if (column + 3 + addr_len > kFoldAt) {
    out.append("\r\n");
    column = 0;
  }
  out.append(" <");
  out.append(m.address.local).push_back('@');
  out.append(m.address.domain).push_back('>');
  column += 3 + addr_len;
}

}  // namespace

Status AppendAddressHeader(std::string& out, std::string_view name, const std::vector<Mailbox>& mailboxes) {
  RAPPORT_TRY(ValidateHeaderName(name));
  const std::string field = Lower(name);
  if (mailboxes.empty()) return Error::Invalid(field, "at least one address is required");
  for (const Mailbox& m : mailboxes) {
    RAPPORT_TRY(ValidateHeaderValue(field, m.display_name));
    RAPPORT_TRY(ValidateAddress(field, m.address));
  }
  out.append(name);
  out.push_back(':');
  size_t column = name.size() + 1;
  bool first = true;
  for (const Mailbox& m : mailboxes) {
    AppendMailbox(out, m, column, first);
    first = false;
  }
  out.append("\r\n");
  return {};
}

Status AppendAddressHeader(std::string& out, std::string_view name, const Mailbox& mailbox) {
  // Same checks and output as the list form, without building a vector on the hot path.
  RAPPORT_TRY(ValidateHeaderName(name));
  const std::string field = Lower(name);
  RAPPORT_TRY(ValidateHeaderValue(field, mailbox.display_name));
  RAPPORT_TRY(ValidateAddress(field, mailbox.address));
  out.append(name);
  out.push_back(':');
  size_t column = name.size() + 1;
  AppendMailbox(out, mailbox, column, true);
  out.append("\r\n");
  return {};
}

std::string GenerateMessageId(std::string_view domain) {
  std::array<unsigned char, 16> bytes{};
  FastRandomBytes(bytes.data(), bytes.size());
  static constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string id;
  id.reserve(domain.size() + 32);
  id.push_back('<');
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      id.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) id.push_back(kBase32[(buffer << (5 - bits)) & 31]);
  id.push_back('@');
  id.append(domain);
  id.push_back('>');
  return id;
}

std::string FormatRfc5322Date(Timestamp t) {
  using namespace std::chrono;
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const weekday wd(day);
  const auto secs = duration_cast<seconds>(t - day).count();
  char buf[48];
  int n = snprintf(buf, sizeof buf, "%s, %u %s %d %02d:%02d:%02d +0000", kDays[wd.c_encoding()],
                   static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                   static_cast<int>(ymd.year()), static_cast<int>(secs / 3600),
                   static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace rapport::mail
