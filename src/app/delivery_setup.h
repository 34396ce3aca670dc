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
#include "tracking/verp_address.h"

namespace rapport::app {

struct DeliveryStack {
  std::unique_ptr<delivery::Transport> transactional;
  std::unique_ptr<delivery::Transport> marketing;
  std::unique_ptr<delivery::TransportCopies> copies;  // over both lanes: erased with a contact
  std::unique_ptr<mail::DkimKeyring> keyring;         // the worker's signer signs with it
  std::unique_ptr<delivery::RateLimiter> limiter;
  std::unique_ptr<tracking::VerpCodec> verp;  // set when inbound.verp: the worker's envelope senders
  std::unique_ptr<delivery::OutboxWorker> worker;
  std::string description;  // for the start-up log line: transport, DKIM domains
  std::string node_id;      // this node (delivery.node_id or <data_dir>/node-id)
  std::string lease_owner;  // this process: "<node_id>/<pid>-<random>", the worker's lease owner
};

// The transport URL of the configuration: "maildir:<outbox dir>" or the smtp_url with the
// configured tls mode added to smtp:// URLs that do not name one.
std::string TransportUrl(const Config& config);

// The two lanes' transports of the configuration (transactional, marketing), created from
// TransportUrl(config); a config error names its field and never quotes the URL.
struct Transports {
  std::unique_ptr<delivery::Transport> transactional;
  std::unique_ptr<delivery::Transport> marketing;
};
Result<Transports> BuildTransports(const Config& config);

// The configured [[dkim]] keys, loaded (empty when there are none).
Result<std::unique_ptr<mail::DkimKeyring>> LoadDkimKeyring(const Config& config);

// The node id: delivery.node_id, else read from config.NodeIdFile(), else created there on first
// start (the host name, cleaned, and 8 random hex digits; mode 0600). The file must not be
// copied to another node: two live processes with one node id release each other's leases.
Result<std::string> LoadOrCreateNodeId(const Config& config);

// An exclusive lock on <data_dir>/node.lock, held while it lives (released by the kernel when the
// process dies, kill -9 included): two `rapport serve` of one data directory never run at once,
// since each would take the other's leases back when it starts.
class NodeLock {
 public:
  explicit NodeLock(int fd) : fd_(fd) {}
  ~NodeLock();
  NodeLock(const NodeLock&) = delete;
  NodeLock& operator=(const NodeLock&) = delete;

 private:
  int fd_;
};
// kConflict (field "data_dir") when another process holds the lock.
Result<std::unique_ptr<NodeLock>> LockNode(const Config& config);

// Hands back the leases that earlier processes of this node held (a crash or kill -9 left them
// until they expire): their messages are due again at once. Call before the worker starts.
Result<int64_t> ReleaseEarlierLeases(Store& store, const DeliveryStack& stack, const Clock& clock);

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
