// The demo data `rapport serve --demo` seeds on its first start: ~300 contacts with realistic
// names, attributes and time zones, three topics with subscriptions and consent, a few thousand
// events over the 90 days before `now`, two templates and an admin key.
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

#include "core/clock.h"
#include "core/error.h"
#include "core/store.h"

namespace rapport::app {

inline constexpr uint64_t kDemoSeed = 0x5eed2026;

struct DemoResult {
  bool created = false;
  WorkspaceId workspace_id = 0;
  std::string admin_key;  // set when created; shown once, stored only hashed
  int contacts = 0;
  int events = 0;
};

Result<DemoResult> SeedDemoWorkspace(Store& store, Timestamp now, uint64_t seed = kDemoSeed);

}  // namespace rapport::app
