// Message-ID values (RFC 5322 3.6.4). Thread-safe (a per-thread RNG, fast_random.h).
#pragma once

#include <string>
#include <string_view>

namespace rapport::mail {

// "<random@domain>" with 128 random bits (base32, lower case; see fast_random.h). `domain` must be a valid
// ASCII domain (as EmailAddress::domain is); an invalid one is a programmer error, checked
// by the callers that build headers (ValidateAddress).
std::string GenerateMessageId(std::string_view domain);

}  // namespace rapport::mail
