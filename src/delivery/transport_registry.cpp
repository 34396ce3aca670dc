#include "delivery/transport_registry.h"

#include <algorithm>
#include <cctype>

#include "delivery/maildir/maildir_transport.h"
#include "delivery/smtp/smtp_transport.h"

namespace rapport::delivery {

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
