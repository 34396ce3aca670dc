#include "core/sender.h"

#include <fmt/format.h>

#include "core/email_address.h"
#include "core/utf8.h"

namespace rapport {

namespace {

// Valid UTF-8, no C0 control character (CR, LF, tab...) and no DEL, at most `max` bytes.
Status CheckText(std::string_view value, std::string_view field, size_t max) {
  if (value.size() > max)
    return Error::Invalid(std::string(field), fmt::format("{} is at most {} bytes", field, max));
  if (!IsValidUtf8(value))
    return Error::Invalid(std::string(field), fmt::format("{} is not valid UTF-8", field));
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f)
      return Error::Invalid(
          std::string(field),
          fmt::format("{} must be one line without control characters (no CR or LF)", field));
  return {};
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (Lower(a[i]) != Lower(b[i])) return false;
  return true;
}

}  // namespace

std::string SenderIdentity::Domain() const {
  size_t at = email.rfind('@');
  return at == std::string::npos ? std::string() : email.substr(at + 1);
}

Status ValidateSender(SenderIdentity& s) {
  if (s.email.empty()) return Error::Invalid("email", "a sender needs a from address (email)");
  RAPPORT_ASSIGN_OR_RETURN(s.email, NormalizeEmail(s.email, "email"));
  RAPPORT_TRY(CheckText(s.name, "name", kMaxSenderNameBytes));
  if (!s.reply_to_email.empty()) {
    RAPPORT_ASSIGN_OR_RETURN(s.reply_to_email, NormalizeEmail(s.reply_to_email, "reply_to.email"));
  } else if (!s.reply_to_name.empty()) {
    return Error::Invalid("reply_to.email", "a Reply-To name needs a Reply-To address");
  }
  RAPPORT_TRY(CheckText(s.reply_to_name, "reply_to.name", kMaxSenderNameBytes));
  RAPPORT_TRY(CheckText(s.postal_address, "postal_address", kMaxPostalAddressBytes));
  return {};
}

bool DkimCovers(std::span<const std::string> dkim_domains, std::string_view domain) {
  while (!domain.empty()) {
    for (const std::string& d : dkim_domains)
      if (EqualsIgnoreCase(d, domain)) return true;
    size_t dot = domain.find('.');
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  return false;
}

std::string DkimRecordName(std::string_view selector, std::string_view domain) {
  return fmt::format("{}._domainkey.{}", selector, domain);
}

Status MarketingRefusal(const SenderIdentity& s, MessageClass c, std::span<const std::string> dkim_domains) {
  if (c != MessageClass::kMarketing) return {};
  std::string domain = s.Domain();
  if (s.postal_address.empty())
    return Error::Invalid("from",
                          fmt::format("sender {} <{}> has no postal address: marketing mail must carry "
                                      "the sender's physical postal address (CAN-SPAM); set its "
                                      "postal_address",
                                      s.id, s.email));
  if (!DkimCovers(dkim_domains, domain))
    return Error::Invalid(
        "from",
        fmt::format(
            "no DKIM key is configured for {0}, the domain of sender {1} <{2}>: marketing mail must be "
            "DKIM-signed by its From domain. Generate a key (rapport dkim keygen --domain {0} "
            "--selector {3} --out {0}.pem), add it as a [[dkim]] entry of the config, and publish "
            "its public key as the TXT record {4} (rapport senders check prints it)",
            domain, s.id, s.email, kSuggestedDkimSelector, DkimRecordName(kSuggestedDkimSelector, domain)));
  return {};
}

}  // namespace rapport
