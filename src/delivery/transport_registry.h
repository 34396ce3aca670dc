// The registry of transports by URL scheme (STYLE.md #14): a transport contributes a factory for
// its scheme(s) through its Register*Transport() function (maildir/maildir_transport.h,
// smtp/smtp_transport.h), and the composition root (app/delivery_setup.cpp) registers the ones
// the binary offers, explicitly: no static-initialization registrars, no linker anchors.
// Create() picks by the scheme of the URL ("maildir", "smtp", "smtps"; case-insensitive).
//
// Thread-safety: Register() while building; Create() and Schemes() may then be called from any
// thread. Failure: kInvalid (field "url") for an unknown scheme or a URL the factory rejects;
// messages never quote the URL (it may carry a password).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "delivery/transport.h"

namespace rapport::delivery {

using TransportFactory = std::function<Result<std::unique_ptr<Transport>>(std::string_view url)>;

class TransportRegistry {
 public:
  // Adds (or replaces) the factory of `scheme` (lower case).
  void Register(std::string scheme, TransportFactory factory);
  Result<std::unique_ptr<Transport>> Create(std::string_view url) const;
  std::vector<std::string> Schemes() const;

 private:
  std::vector<std::pair<std::string, TransportFactory>> factories_;
};

// Registers every transport delivery ships (maildir:, smtp://, smtps://): what serve, the tests
// and the benchmarks use unless they want fewer.
void RegisterBuiltinTransports(TransportRegistry& registry);

}  // namespace rapport::delivery
