// Fuzzes core's ParseEmailAddress: normalizing twice equals normalizing once, and a
// normalized address holds no control characters or whitespace. Also mail's ParseMailbox
// ("Name <addr>"): whatever it accepts, the header writer can write.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/email_address.h"
#include "mail/header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto mailbox = rapport::mail::ParseMailbox("from", input); mailbox.ok()) {
    std::string out;
    if (!rapport::mail::AppendAddressHeader(out, "From", *mailbox).ok()) {
      fprintf(stderr, "ParseMailbox accepted what the writer refuses\n");
      abort();
    }
  }
  auto once = rapport::NormalizeEmail(input);
  if (!once.ok()) return 0;
  for (unsigned char c : *once) {
    if (c < 0x20 || c == 0x7F || c == ' ') {
      fprintf(stderr, "control or space in normalized address\n");
      abort();
    }
  }
  auto twice = rapport::NormalizeEmail(*once);
  if (!twice.ok() || *twice != *once) {
    fprintf(stderr, "normalize is not idempotent: '%s' -> '%s'\n", once->c_str(),
            twice.ok() ? twice->c_str() : twice.error().message.c_str());
    abort();
  }
  return 0;
}
