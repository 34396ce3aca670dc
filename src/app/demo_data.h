// The demo workspace `rapport serve --demo` creates on its first start: ~300 contacts with
// realistic names, attributes and time zones, three topics with subscriptions and consent, and
// a few thousand events over the 90 days before `now`.
//
// Deterministic: the same seed gives the same contacts, subscriptions and event offsets (the
// timestamps are relative to `now`). Never re-seeds: when the workspace "demo" exists, returns
// created = false and touches nothing. Writes through the Store only; not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "core/store.h"

namespace rapport::app {

inline constexpr std::string_view kDemoWorkspace = "demo";
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
