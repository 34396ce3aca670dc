#include "mail/mailbox.h"

#include <algorithm>

#include "core/encoding.h"
#include "mail/encoded_word.h"
#include "mail/header.h"
#include "mail/header_text.h"

namespace rapport::mail {

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
  const std::string field = LowerHeaderName(name);
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
  const std::string field = LowerHeaderName(name);
  RAPPORT_TRY(ValidateHeaderValue(field, mailbox.display_name));
  RAPPORT_TRY(ValidateAddress(field, mailbox.address));
  out.append(name);
  out.push_back(':');
  size_t column = name.size() + 1;
  AppendMailbox(out, mailbox, column, true);
  out.append("\r\n");
  return {};
}

}  // namespace rapport::mail
