#include "core/email_address.h"

#include "core/encoding.h"

#include "core/utf8.h"

#include <idn2.h>

#include <algorithm>
#include <cstdlib>

namespace rapport {
namespace {

constexpr size_t kMaxLocal = 64;
constexpr size_t kMaxDomain = 253;
constexpr size_t kMaxAddress = 254;

// atext, plus any UTF-8 byte (RFC 6531).
bool IsUtf8Atext(unsigned char c) { return c >= 0x80 || IsAtext(c); }

Status CheckLocal(std::string_view local, std::string_view field) {
  if (local.empty()) return Error::Invalid(std::string(field), "the part before @ is empty");
  if (local.size() > kMaxLocal)
    return Error::Invalid(std::string(field), "the part before @ is longer than 64 octets");
  if (local.size() >= 2 && local.front() == '"' && local.back() == '"') {
    // quoted-string: printable ASCII except bare '"' and '\'; allow backslash pairs.
    for (size_t i = 1; i + 1 < local.size(); ++i) {
      unsigned char c = local[i];
      if (c < 0x20 || c == 0x7F) return Error::Invalid(std::string(field), "control character in address");
      if (c == '\\') {
        if (i + 2 >= local.size())
          return Error::Invalid(std::string(field), "bad escape in quoted local part");
        unsigned char n = local[i + 1];
        if (n < 0x20 || n == 0x7F) return Error::Invalid(std::string(field), "control character in address");
        ++i;
        continue;
      }
      if (c == '"') return Error::Invalid(std::string(field), "unescaped quote in local part");
    }
    return {};
  }
  if (local.front() == '.' || local.back() == '.')
    return Error::Invalid(std::string(field), "the part before @ may not start or end with a dot");
  for (size_t i = 0; i < local.size(); ++i) {
    unsigned char c = local[i];
    if (c == '.') {
      if (i + 1 < local.size() && local[i + 1] == '.')
        return Error::Invalid(std::string(field), "two dots in a row before @");
      continue;
    }
    if (c < 0x20 || c == 0x7F) return Error::Invalid(std::string(field), "control character in address");
    if (!IsUtf8Atext(c))
      return Error::Invalid(std::string(field),
                            std::string("character '") + char(c) + "' is not allowed before @");
  }
  return {};
}

Result<std::string> CheckDomain(std::string_view domain, std::string_view field) {
  if (domain.empty()) return Error::Invalid(std::string(field), "the domain after @ is empty");
  if (domain.front() == '[')
    return Error::Invalid(std::string(field), "address literals are not accepted as a domain");
  bool ascii = std::all_of(domain.begin(), domain.end(), [](unsigned char c) { return c < 0x80; });
  std::string ace;
  if (ascii) {
    ace.assign(domain);
    std::transform(ace.begin(), ace.end(), ace.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  } else {
    std::string owned(domain);
    char* out = nullptr;
    int rc = idn2_to_ascii_8z(owned.c_str(), &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (rc != IDN2_OK) {
      rc = idn2_to_ascii_8z(owned.c_str(), &out, IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
    }
    if (rc != IDN2_OK || out == nullptr)
      return Error::Invalid(
          std::string(field),
          std::string("the domain is not a valid internationalized name: ") + idn2_strerror(rc));
    ace.assign(out);
    idn2_free(out);
    std::transform(ace.begin(), ace.end(), ace.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  if (ace.size() > kMaxDomain)
    return Error::Invalid(std::string(field), "the domain is longer than 253 octets");
  if (ace.find('.') == std::string::npos)
    return Error::Invalid(std::string(field), "the domain needs at least one dot");
  size_t start = 0;
  while (start <= ace.size()) {
    size_t end = ace.find('.', start);
    if (end == std::string::npos) end = ace.size();
    std::string_view label(ace.data() + start, end - start);
    if (label.empty()) return Error::Invalid(std::string(field), "the domain has an empty label");
    if (label.size() > 63)
      return Error::Invalid(std::string(field), "a domain label is longer than 63 octets");
    if (label.front() == '-' || label.back() == '-')
      return Error::Invalid(std::string(field), "a domain label may not start or end with '-'");
    for (unsigned char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
        return Error::Invalid(std::string(field),
                              std::string("character '") + char(c) + "' is not allowed in a domain");
    }
    start = end + 1;
    if (end == ace.size()) break;
  }
  return ace;
}

}  // namespace

Result<EmailAddress> ParseEmailAddress(std::string_view input, std::string_view field) {
  if (input.empty()) return Error::Invalid(std::string(field), "email is required");
  if (input.size() > 1024) return Error::Invalid(std::string(field), "email is too long");
  if (!IsValidUtf8(input)) return Error::Invalid(std::string(field), "email is not valid UTF-8");
  for (unsigned char c : input) {
    if (c < 0x20 || c == 0x7F) return Error::Invalid(std::string(field), "control character in address");
    if (c == ' ') return Error::Invalid(std::string(field), "whitespace is not allowed in an address");
  }
  size_t at = input.rfind('@');
  if (at == std::string_view::npos) return Error::Invalid(std::string(field), "email needs an @");
  std::string_view local = input.substr(0, at);
  std::string_view domain = input.substr(at + 1);
  if (local.find('@') != std::string_view::npos && !(local.front() == '"' && local.back() == '"'))
    return Error::Invalid(std::string(field), "email has more than one @");
  RAPPORT_TRY(CheckLocal(local, field));
  RAPPORT_ASSIGN_OR_RETURN(std::string ace, CheckDomain(domain, field));
  EmailAddress addr{std::string(local), std::move(ace)};
  if (addr.local.size() + 1 + addr.domain.size() > kMaxAddress)
    return Error::Invalid(std::string(field), "email is longer than 254 octets");
  return addr;
}

Result<std::string> NormalizeEmail(std::string_view input, std::string_view field) {
  RAPPORT_ASSIGN_OR_RETURN(EmailAddress addr, ParseEmailAddress(input, field));
  return addr.ToString();
}

std::string EmailIdentityKey(std::string_view email) {
  std::string key(email);
  for (char& c : key)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return key;
}

}  // namespace rapport
