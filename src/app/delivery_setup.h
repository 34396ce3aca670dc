// Builds the send path of `rapport serve` from the configuration: the transports of the two
// lanes, the DKIM keyring, rate control and the outbox worker; and the pieces the API needs to
// queue mail (the sender and the link secret).
//
// DKIM: every [[dkim]] entry's key is loaded at start into one mail::DkimKeyring (a bad key file
// fails the start). A message is signed with every key of the domain of its envelope sender, or
// of the nearest parent domain that has keys (bounces.example.com uses example.com's keys); a
// message of a domain without keys goes unsigned. Transports are registered here, explicitly
// (maildir, smtp, smtps). Errors name the configuration key and never quote smtp_url (it may
// hold a password); allow_plaintext_auth=true in smtp_url is warned about at start.
// Not thread-safe to build; the DeliveryStack's parts are thread-safe after.
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
#include "mail/dkim_keyring.h"

namespace rapport::app {

struct DeliveryStack {
  std::unique_ptr<delivery::Transport> transactional;
  std::unique_ptr<delivery::Transport> marketing;
  std::unique_ptr<mail::DkimKeyring> keyring;  // the worker's signer signs with it
  std::unique_ptr<delivery::RateLimiter> limiter;
  std::unique_ptr<delivery::OutboxWorker> worker;
  std::string description;  // for the start-up log line: transport, DKIM domains
};

// The transport URL of the configuration: "maildir:<outbox dir>" or the smtp_url with the
// configured tls mode added to smtp:// URLs that do not name one.
std::string TransportUrl(const Config& config);

// The configured [[dkim]] keys, loaded (empty when there are none).
Result<std::unique_ptr<mail::DkimKeyring>> LoadDkimKeyring(const Config& config);

Result<std::unique_ptr<DeliveryStack>> BuildDeliveryStack(const Config& config, Store& store,
                                                          const Clock& clock);

// The sender of the configuration, parsed.
Result<compose::Sender> BuildSender(const Config& config);

// The link secret: read from config.LinkSecretFile(), or created there (32 random bytes, hex,
// mode 0600) when the file does not exist.
Result<std::string> LoadOrCreateLinkSecret(const Config& config);

// A secret file: read from `path` (at least 32 bytes, trailing newline dropped), or created there
// (32 random bytes, hex, mode 0600, fsynced) when it does not exist. Errors name `field`.
Result<std::string> LoadOrCreateSecretFile(const std::string& path, const std::string& field,
                                           std::string_view what);

}  // namespace rapport::app
