// Writing RFC 5322 header fields: validation and unstructured fields (Subject, List-Id ...).
// The other header writers live beside it and are included here for the callers' convenience:
// encoded_word.h (RFC 2047), mailbox.h (addresses), message_id.h, rfc5322_date.h.
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
#include "mail/encoded_word.h"
#include "mail/mailbox.h"
#include "mail/message_id.h"
#include "mail/rfc5322_date.h"

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

}  // namespace rapport::mail
