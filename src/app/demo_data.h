// The demo data `rapport serve --demo` seeds on its first start: ~300 contacts with realistic
// names, attributes and time zones, three topics with subscriptions and consent, a few thousand
// events over the 90 days before `now`, two templates, two sender identities (news@ as the
// default, with a postal address; orders@) and an admin key.
//
// It goes into the data directory's default workspace (kDefaultWorkspace, created if missing),
// the one every CLI command uses without --workspace, so `contacts import`, `contacts export`
// and `keys create` act on the demo's contacts.
//
// Deterministic: the same seed gives the same contacts, subscriptions and event offsets (the
// timestamps are relative to `now`). Never re-seeds: when the default workspace already holds a
// contact, returns created = false and touches nothing. Writes through the Store only; not
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "core/store.h"
#include "send/send_service.h"

namespace rapport::app {

inline constexpr uint64_t kDemoSeed = 0x5eed2026;
// The domain of the demo's sender identities (its DKIM key: senders_command.h, AddDemoDkimKey).
inline constexpr std::string_view kDemoSenderDomain = "shop.example";

struct DemoResult {
  bool created = false;
  WorkspaceId workspace_id = 0;
  std::string admin_key;  // set when created; shown once, stored only hashed
  int contacts = 0;
  int events = 0;
};

Result<DemoResult> SeedDemoWorkspace(Store& store, Timestamp now, uint64_t seed = kDemoSeed);

// Queues the demo's first marketing mail through the one send service: the `welcome` template
// under the `newsletter` topic to the first `count` contacts subscribed to it (the send service
// refuses the others), so that `make run` leaves a real message in the outbox with its tracked
// links, open pixel, one-click unsubscribe and preference center. Each send has the idempotency
// key `demo-welcome-<contact id>`: a second call queues nothing new. Returns how many it queued.
Result<int> QueueDemoWelcome(Store& store, send::SendService& sender, WorkspaceId ws, int count = 3);

}  // namespace rapport::app
