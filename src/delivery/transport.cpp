#include "delivery/transport.h"

#include <algorithm>

namespace rapport::delivery {

std::string_view SmtpStepName(SmtpStep s) {
  switch (s) {
    case SmtpStep::kUnknown: return "unknown";
    case SmtpStep::kConnect: return "connect";
    case SmtpStep::kGreeting: return "greeting";
    case SmtpStep::kEhlo: return "ehlo";
    case SmtpStep::kStartTls: return "starttls";
    case SmtpStep::kAuth: return "auth";
    case SmtpStep::kMailFrom: return "mail_from";
    case SmtpStep::kRcptTo: return "rcpt_to";
    case SmtpStep::kData: return "data";
    case SmtpStep::kEndOfData: return "end_of_data";
    case SmtpStep::kRset: return "rset";
    case SmtpStep::kLocal: return "local";
  }
  return "unknown";
}

SendResult UniformResult(const OutgoingMessage& m, int code, std::string enhanced_code, std::string text,
                         std::string remote, SmtpStep step) {
  SendResult r;
  r.remote = std::move(remote);
  r.recipients.reserve(m.envelope.rcpt_to.size());
  for (const auto& rcpt : m.envelope.rcpt_to) {
    r.recipients.push_back({rcpt, code, enhanced_code, text, step});
  }
  return r;
}

Status TransportCopies::EraseCopies(std::span<const MessageId> ids) {
  std::vector<Transport*> seen;
  for (Transport* t : transports_) {
    if (!t || std::find(seen.begin(), seen.end(), t) != seen.end()) continue;
    seen.push_back(t);
    RAPPORT_TRY(t->EraseCopies(ids));
  }
  return {};
}

}  // namespace rapport::delivery
