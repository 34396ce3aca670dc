// Builds the send path of `rapport serve` from the configuration: the transports of the two
// lanes, the DKIM keyring, rate control and the outbox worker; and the pieces the API needs to
// queue mail (the sender and the link secret).
//
// DKIM: every [[dkim]] entry's key is loaded at start (a bad key file fails the start). A message
// is signed with every key of the domain of its envelope sender, or of the nearest parent domain
// that has keys (bounces.example.com uses example.com's keys); a message of a domain without keys
// goes unsigned. Not thread-safe to build; the DeliveryStack's parts are thread-safe after.
#pragma once

#include <memory>
#include <string>

#include "app/config.h"
#include "compose/composer.h"
#include "core/clock.h"
#include "core/store.h"
#include "delivery/outbox_worker.h"
#include "delivery/rate_limiter.h"
#include "delivery/transport.h"
#include "mail/dkim.h"

namespace rapport::app {

struct DeliveryStack {
  std::unique_ptr<delivery::Transport> transactional;
  std::unique_ptr<delivery::Transport> marketing;
  std::vector<std::shared_ptr<const mail::DkimSigner>> signers;  // kept alive for the signer
  std::unique_ptr<delivery::RateLimiter> limiter;
  std::unique_ptr<delivery::OutboxWorker> worker;
  std::string description;  // for the start-up log line: transport, DKIM domains
};

// The transport URL of the configuration: "maildir:<outbox dir>" or the smtp_url with the
// configured tls mode added to smtp:// URLs that do not name one.
std::string TransportUrl(const Config& config);

// The MessageSigner over the configured keys (empty when there are none); the signers it uses
// are appended to `keep`.
Result<delivery::MessageSigner> BuildDkimSigner(const Config& config,
                                                std::vector<std::shared_ptr<const mail::DkimSigner>>& keep);

Result<std::unique_ptr<DeliveryStack>> BuildDeliveryStack(const Config& config, Store& store,
                                                          const Clock& clock);

// The sender of the configuration, parsed.
Result<compose::Sender> BuildSender(const Config& config);

// The link secret: read from config.LinkSecretFile(), or created there (32 random bytes, hex,
// mode 0600) when the file does not exist.
Result<std::string> LoadOrCreateLinkSecret(const Config& config);

}  // namespace rapport::app
