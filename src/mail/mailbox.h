// Mailboxes in headers (RFC 5322 3.4): parsing one as an operator writes it, validating an
// address for writing, and writing address headers (From, To, Reply-To) with their display
// names as atoms, quoted strings or encoded words, folded at 78 columns. Values are validated
// as header.h says before anything is written (kInvalid naming the header). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/email_address.h"
#include "core/error.h"

namespace rapport::mail {

// A mailbox: an optional display name (UTF-8 text) and an address already normalized by
// core's ParseEmailAddress (domain in ASCII; the local part is written as given).
struct Mailbox {
  std::string display_name;
  EmailAddress address;
};

// Parses a mailbox as an operator writes it in configuration: "addr@example.com",
// "Display Name <addr@example.com>" or "\"Name, Inc.\" <addr@example.com>". The address goes
// through ParseEmailAddress (IDN to ASCII); the display name must pass ValidateHeaderValue.
// kInvalid naming `field`.
Result<Mailbox> ParseMailbox(std::string_view field, std::string_view text);

// Checks an address for writing: non-empty local part and domain, no control characters,
// no whitespace or '<', '>', ',' outside a quoted local part, an ASCII domain of letters,
// digits, '-' and '.'. kInvalid naming `field`.
Status ValidateAddress(std::string_view field, const EmailAddress& address);

// Appends "Name: mailbox, mailbox\r\n". A display name is written as an atom phrase when it is
// plain words, as a quoted-string when it is other printable ASCII, and as encoded words when
// it holds non-ASCII text. kInvalid when `mailboxes` is empty or a mailbox is invalid.
Status AppendAddressHeader(std::string& out, std::string_view name, const std::vector<Mailbox>& mailboxes);
Status AppendAddressHeader(std::string& out, std::string_view name, const Mailbox& mailbox);

// Appends " " and `text` (a validated header value) as an RFC 5322 phrase: atoms, a
// quoted-string or encoded words (see AppendAddressHeader). When `fold_first` and the phrase
// would pass column 78, it starts on a new folded line. Updates `column`.
void AppendPhrase(std::string& out, std::string_view text, size_t& column, bool fold_first);

}  // namespace rapport::mail
