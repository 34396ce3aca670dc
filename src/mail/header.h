// Writing RFC 5322 header fields: validation, RFC 2047 encoded words, folding, addresses,
// Message-ID and Date.
//
// Every function that writes a header validates what it writes first: a header name must be
// 1-76 printable ASCII characters without ':'; a value must be valid UTF-8 and hold no control
// character at all (no CR, LF, TAB, NUL, DEL or other C0/C1 controls). A value that fails is an
// Error with code kInvalid naming the header ("subject", "to", ...); nothing is written to the
// output in that case (the output string is left as it was). So a value with CR or LF can
// never produce a header: this is how header injection is stopped. The API layer can call the
// Validate* functions itself to reject bad input early with the same messages.
//
// Output: "Name: value\r\n". Values that are printable ASCII are written as they are, folded at
// spaces so that lines stay within 78 characters where a space allows it. Values with non-ASCII
// text, with "=?", with leading or trailing spaces, or with a run of more than 900 characters
// without a space are written as RFC 2047 encoded words in UTF-8 (Q or B, whichever is shorter),
// each encoded word at most 75 characters, never splitting a UTF-8 sequence, one per line after
// the first when they do not fit. No line ever exceeds 998 octets; every line ends in CRLF.
//
// All functions are pure and thread-safe (GenerateMessageId reads a per-thread RNG).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/email_address.h"
#include "core/error.h"
#include "core/utf8.h"

namespace rapport::mail {

// The longest header name accepted, so that "Name: " plus a 900-octet word fits in 998 octets.
inline constexpr size_t kMaxHeaderNameLength = 76;
// The longest value accepted (an encoded 64 KiB subject is already absurd).
inline constexpr size_t kMaxHeaderValueLength = 65536;

// UTF-8 validity is core's IsValidUtf8 (core/utf8.h).
using rapport::IsValidUtf8;

// A header field name: 1-76 characters from '!' to '~' except ':'. kInvalid naming `name`.
Status ValidateHeaderName(std::string_view name);

// A header value: valid UTF-8, no control characters (C0, DEL, C1), at most
// kMaxHeaderValueLength octets. kInvalid with field `field` and a message that says why.
Status ValidateHeaderValue(std::string_view field, std::string_view value);

// Appends "Name: <value encoded and folded>\r\n" to `out`. `name` is written as given; the
// error field is `name` lower-cased.
Status AppendUnstructuredHeader(std::string& out, std::string_view name, std::string_view value);

// The same, returned as a string.
Result<std::string> EncodeUnstructuredHeader(std::string_view name, std::string_view value);

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

// "<random@domain>" with 128 random bits (base32, lower case; see fast_random.h). `domain` must be a valid
// ASCII domain (as EmailAddress::domain is); an invalid one is a programmer error, checked
// by the callers that build headers (ValidateAddress).
std::string GenerateMessageId(std::string_view domain);

// RFC 5322 date-time in UTC: "Mon, 23 Nov 2026 10:15:00 +0000".
std::string FormatRfc5322Date(Timestamp t);

// Appends `text` (valid UTF-8) as RFC 2047 encoded words to `out`, where the current line is
// `column` characters long; folds with CRLF SP between words and updates `column`. `phrase`
// restricts Q encoding to the characters allowed in a phrase (RFC 2047 section 5 (3)).
// Exposed for the fuzzer and the tests.
void AppendEncodedWords(std::string& out, std::string_view text, size_t& column, bool phrase);

// Appends " " and `text` (a validated header value) as an RFC 5322 phrase: atoms, a
// quoted-string or encoded words (see AppendAddressHeader). When `fold_first` and the phrase
// would pass column 78, it starts on a new folded line. Updates `column`.
void AppendPhrase(std::string& out, std::string_view text, size_t& column, bool fold_first);

}  // namespace rapport::mail
