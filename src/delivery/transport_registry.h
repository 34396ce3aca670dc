// The registry of transports by URL scheme (STYLE.md #14): each transport registers a factory
// for its scheme(s) with RAPPORT_REGISTER_TRANSPORT in its own .cpp; Create() picks by the
// scheme of the URL ("maildir", "smtp", "smtps").
//
// Thread-safety: registration happens during static initialization; Create() is thread-safe
// afterwards. Failure: kInvalid (field "url") for an unknown scheme or a URL the factory rejects.
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
  static TransportRegistry& Global();
  void Register(std::string scheme, TransportFactory factory);
  Result<std::unique_ptr<Transport>> Create(std::string_view url) const;
  std::vector<std::string> Schemes() const;

 private:
  std::vector<std::pair<std::string, TransportFactory>> factories_;
};

// Creates a transport from a URL through the global registry.
Result<std::unique_ptr<Transport>> CreateTransport(std::string_view url);

struct TransportRegistrar {
  TransportRegistrar(std::string scheme, TransportFactory factory) {
    TransportRegistry::Global().Register(std::move(scheme), std::move(factory));
  }
};

}  // namespace rapport::delivery

// Registers `factory` for `scheme`; `tag` names the anchor that transport_registry.cpp
// references so the linker keeps the registering object file of the static library.
#define RAPPORT_REGISTER_TRANSPORT(tag, scheme, factory) \
  int rapport_transport_anchor_##tag = 0;                \
  static ::rapport::delivery::TransportRegistrar rapport_transport_registrar_##tag(scheme, factory)
