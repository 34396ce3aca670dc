// Fuzzes the inbound SMTP session (delivery/inbound/smtp_session.h): arbitrary client lines.
// Invariants: every command line gets a reply of complete CRLF lines with a 3-digit code, a
// delivered message holds at most max bytes, and a closed session is never driven further.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "delivery/inbound/smtp_session.h"

using namespace rapport::delivery;

namespace {
void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "inbound_smtp_fuzz: %s\n", what);
    abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  InboundSmtpSession s("mx.fuzz", size % 2 == 0, 200);
  bool in_data = false;
  while (!in.empty()) {
    size_t eol = in.find('\n');
    std::string_view line = in.substr(0, eol);
    in = eol == std::string_view::npos ? std::string_view() : in.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto step = s.OnLine(line);
    if (in_data) {
      if (line != ".") {
        Check(step.reply.empty() && !step.message, "a data line answered");
        continue;
      }
      in_data = false;
      if (step.message) {
        Check(step.message->data.size() <= 200, "a message over the limit");
        Check(!step.message->rcpt_to.empty(), "a message without recipients");
        continue;
      }
    }
    Check(step.reply.size() >= 5 && step.reply.ends_with("\r\n"), "a command without a reply");
    Check(step.reply[0] >= '2' && step.reply[0] <= '5', "a reply without a code");
    in_data = step.reply.starts_with("354");
    if (step.start_tls) s.TlsStarted();
    if (step.close) break;
  }
  return 0;
}
