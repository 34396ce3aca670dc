// What a server advertised in its EHLO reply (RFC 5321 §4.1.1.1 and extensions). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "delivery/smtp/smtp_reply.h"

namespace rapport::delivery {

struct SmtpCapabilities {
  bool esmtp = false;  // false after a HELO fallback: no extensions at all
  bool pipelining = false;
  bool starttls = false;
  bool eight_bit_mime = false;
  bool smtputf8 = false;
  uint64_t size_limit = 0;        // 0: no SIZE limit advertised
  bool size = false;              // SIZE advertised (with or without a number)
  std::vector<std::string> auth;  // upper-case mechanisms: "PLAIN", "LOGIN", ...

  bool HasAuth(std::string_view mech) const;
};

// Reads the extension lines (all but the first) of a 250 EHLO reply.
SmtpCapabilities ParseEhloReply(const SmtpReply& reply);

}  // namespace rapport::delivery
