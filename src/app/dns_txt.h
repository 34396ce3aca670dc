// TXT lookups against one given DNS server, for `rapport senders check --resolver` (glibc's
// resolver, libresolv: res_nquery on a private resolver state, so the system's resolv.conf is
// neither read for servers nor changed).
//
// LookupTxt asks `server` (an IPv4 address with an optional ":port", default 53) for the TXT
// records of `name`, recursion desired, with a 2-second timeout and one retry. Each record's
// character-strings are joined (RFC 7208 3.3, RFC 6376 3.6.2.2). NXDOMAIN and an answer without
// TXT records are an empty list; kUnavailable when the server does not answer or answers with
// an error (SERVFAIL, REFUSED); kInvalid (field "resolver") for a malformed server address.
// Thread-safe (each call has its own resolver state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace rapport::app {

Result<std::vector<std::string>> LookupTxt(std::string_view server, std::string_view name);

// OK when `server` is a usable resolver address for LookupTxt; kInvalid (field "resolver") otherwise.
Status ValidateResolver(std::string_view server);

// The TXT records of a DNS response message (`len` bytes): the answer section's IN TXT records,
// each one's character-strings joined; other records are skipped. kUnavailable for a message
// that does not parse (a truncated string ends its record where the data ends). Pure.
Result<std::vector<std::string>> ParseTxtAnswer(const unsigned char* message, int len);

}  // namespace rapport::app
