#include "delivery/transport_registry.h"

#include <algorithm>
#include <cctype>

#include "delivery/maildir/maildir_transport.h"
#include "delivery/smtp/smtp_transport.h"

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

void TransportRegistry::Register(std::string scheme, TransportFactory factory) {
  for (auto& [name, f] : factories_) {
    if (name == scheme) {
      f = std::move(factory);
      return;
    }
  }
  factories_.emplace_back(std::move(scheme), std::move(factory));
}

Result<std::unique_ptr<Transport>> TransportRegistry::Create(std::string_view url) const {
  auto colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Error::Invalid("url", "transport URL needs a scheme (maildir:, smtp://, smtps://)");
  }
  std::string scheme(url.substr(0, colon));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [name, factory] : factories_) {
    if (name == scheme) return factory(url);
  }
  std::string known;
  for (const auto& f : factories_) known += (known.empty() ? "" : ", ") + f.first;
  // Nothing of the URL is quoted: "user:password@host" without a scheme has "user" as its scheme.
  return Error::Invalid("url", "unknown transport scheme (known: " + known + ")");
}

std::vector<std::string> TransportRegistry::Schemes() const {
  std::vector<std::string> out;
  for (const auto& f : factories_) out.push_back(f.first);
  return out;
}

void RegisterBuiltinTransports(TransportRegistry& registry) {
  RegisterMaildirTransport(registry);
  RegisterSmtpTransport(registry);
}

}  // namespace rapport::delivery
