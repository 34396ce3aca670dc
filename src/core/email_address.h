// Email address parsing and normalization (RFC 5321 / 5322 addr-spec, RFC 6531 UTF-8 local parts).
//
// ParseEmailAddress accepts one bare addr-spec ("local@domain"), as a contact's email is given
// through the API, CSV import or an event. It rejects display names, comments, control characters,
// whitespace and anything over the RFC 5321 limits (local part 64 octets, domain 253, whole 254).
// The domain is lower-cased and converted from Unicode to its ASCII (IDNA 2008 / punycode) form;
// the local part is kept as given (it is case-sensitive by the RFCs). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace rapport {

struct EmailAddress {
  std::string local;   // as given; may hold UTF-8
  std::string domain;  // lower-case ASCII (A-labels for IDNs)

  std::string ToString() const { return local + "@" + domain; }
  bool operator==(const EmailAddress&) const = default;
};

// Error code kInvalid with field `field`, and a message that says what is wrong.
Result<EmailAddress> ParseEmailAddress(std::string_view input, std::string_view field = "email");

// Convenience: the normalized "local@domain" string.
Result<std::string> NormalizeEmail(std::string_view input, std::string_view field = "email");

// A contact's identity key: the normalized address with ASCII letters lower-cased, so
// "Ada.Lovelace@Example.COM" and "ada.lovelace@example.com" are one contact (mail providers
// treat local parts case-insensitively; the address as given is still the one mail is sent to).
// Non-ASCII letters are kept as they are (the databases' ASCII lower() agrees: migration v6).
std::string EmailIdentityKey(std::string_view normalized_email);

}  // namespace rapport
