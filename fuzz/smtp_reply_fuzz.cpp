// Fuzzes the SMTP client's parsers of what a server says (delivery/smtp): ParseReply over a
// stream of replies, the RFC 3463 enhanced-code splitter, and the EHLO capability parser.
// Invariants beyond "no crash, no sanitizer report": a reply consumes at least its own line and
// never more than the buffer; its code is 200-599 with lines within the limits; parsing a
// prefix never yields a different reply than the whole buffer (a partial reply waits for more).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "delivery/smtp/smtp_capabilities.h"
#include "delivery/smtp/smtp_reply.h"

using rapport::delivery::ParseEhloReply;
using rapport::delivery::ParseReply;
using rapport::delivery::SmtpReply;

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "smtp_reply_fuzz: %s\n", what);
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view buf(reinterpret_cast<const char*>(data), size);
  std::string_view rest_of_text;
  std::string code = rapport::delivery::SplitEnhancedCode(buf, rest_of_text);
  Check(code.empty() || (code[0] == '2' || code[0] == '4' || code[0] == '5'), "enhanced code class");
  Check(rest_of_text.size() <= buf.size(), "enhanced code rest");

  for (int replies = 0; !buf.empty() && replies < 64; ++replies) {
    SmtpReply reply;
    auto used = ParseReply(buf, reply);
    if (!used.ok()) {
      Check(used.error().code == rapport::ErrorCode::kBadRequest, "error code");
      return 0;
    }
    if (*used == 0) {
      // Incomplete: every shorter prefix must be incomplete (or malformed) too.
      SmtpReply again;
      auto half = ParseReply(buf.substr(0, buf.size() / 2), again);
      Check(!half.ok() || *half == 0, "a prefix of an incomplete reply parsed as complete");
      return 0;
    }
    Check(*used <= buf.size() && *used >= 4, "consumed bytes");
    Check(reply.code >= 200 && reply.code <= 599, "reply code range");
    Check(!reply.lines.empty() && reply.lines.size() <= rapport::delivery::kMaxReplyLines, "line count");
    for (const auto& l : reply.lines)
      Check(l.size() <= rapport::delivery::kMaxReplyLineLength, "line length");
    // The same reply is parsed from the buffer cut right after it.
    SmtpReply exact;
    auto used_exact = ParseReply(buf.substr(0, *used), exact);
    Check(used_exact.ok() && *used_exact == *used && exact.code == reply.code && exact.lines == reply.lines,
          "the reply alone parses the same");
    (void)reply.ToString();
    auto caps = ParseEhloReply(reply);
    for (const auto& mech : caps.auth) Check(!mech.empty(), "empty AUTH mechanism");
    buf.remove_prefix(*used);
  }
  return 0;
}
