#include "delivery/transport_registry.h"

#include <algorithm>

// Anchors defined by RAPPORT_REGISTER_TRANSPORT in each transport's .cpp: referencing them
// keeps those object files (and their registrations) in any binary that links the registry.
extern int rapport_transport_anchor_maildir;
extern int rapport_transport_anchor_smtp;
extern int rapport_transport_anchor_smtps;

namespace rapport::delivery {

SendResult UniformResult(const OutgoingMessage& m, int code, std::string enhanced_code, std::string text,
                         std::string remote) {
  SendResult r;
  r.remote = std::move(remote);
  r.recipients.reserve(m.envelope.rcpt_to.size());
  for (const auto& rcpt : m.envelope.rcpt_to) {
    r.recipients.push_back({rcpt, code, enhanced_code, text});
  }
  return r;
}

TransportRegistry& TransportRegistry::Global() {
  // Volatile reads the optimizer cannot drop: they make the linker keep every transport.
  (void)*static_cast<volatile int*>(&rapport_transport_anchor_maildir);
  (void)*static_cast<volatile int*>(&rapport_transport_anchor_smtp);
  (void)*static_cast<volatile int*>(&rapport_transport_anchor_smtps);
  static TransportRegistry* registry = new TransportRegistry();
  return *registry;
}

void TransportRegistry::Register(std::string scheme, TransportFactory factory) {
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
  return Error::Invalid("url", "unknown transport scheme '" + scheme + "'");
}

std::vector<std::string> TransportRegistry::Schemes() const {
  std::vector<std::string> out;
  for (const auto& f : factories_) out.push_back(f.first);
  return out;
}

Result<std::unique_ptr<Transport>> CreateTransport(std::string_view url) {
  return TransportRegistry::Global().Create(url);
}

}  // namespace rapport::delivery
