// The leased work queue: durable items that come due at a time and are claimed by one worker at a
// time with an expiring lease, on any number of nodes. Journey timers ("run 42, step 3, due at
// 09:00"), campaign batches and other deferred work ride on it; the outbox claims its messages by
// the same rule (store/sql/lease_claim.h builds both statements).
//
// An item is named by (queue, key), unique: scheduling a key again moves the one item (a new due
// time and payload) instead of adding a second, so a retried Schedule is harmless. A claim takes
// items that are due (due_at <= now) or whose lease expired (the node died), ordered by due time,
// and leases them to `owner` until now + lease; a lease that expires makes the item claimable
// again, so a kill loses nothing (at least once). Complete deletes the item; Retry releases it with
// a new due time. Both refuse (kConflict) when the lease is no longer this owner's: the item was
// rescheduled or taken over meanwhile.
//
// Thread-safe, like every store facet (core/store.h); errors as listed there.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace rapport {

using WorkItemId = int64_t;

struct WorkItem {
  WorkItemId id = 0;
  WorkspaceId workspace_id = 0;
  std::string queue;    // "journey.timer", "campaign.batch" ...: [a-z0-9._-]{1,64}
  std::string key;      // unique within the queue: "run:42:step:3" (1 to 255 bytes)
  std::string payload;  // what the worker needs, as the caller encodes it (JSON by convention)
  Timestamp due_at{};
  int attempts = 0;  // claims so far
  std::string lease_owner;
  Timestamp lease_until{};
  Timestamp created_at{};
};

class WorkQueueStore {
 public:
  virtual ~WorkQueueStore() = default;
  // Adds the item, or moves the existing (queue, key) item to this due time and payload (its
  // lease, if any, is dropped). Returns the stored item.
  virtual Result<WorkItem> Schedule(const WorkItem& item) = 0;
  // Claims up to `max` (1..1000) items of `queue` that are due at `now` or whose lease expired.
  virtual Result<std::vector<WorkItem>> Claim(std::string_view queue, int max, std::string_view owner,
                                              Timestamp now, Micros lease) = 0;
  // Done: deletes the item this owner holds. kConflict when it no longer does, kNotFound when
  // the item is gone.
  virtual Status Complete(WorkItemId id, std::string_view owner) = 0;
  // Not done: releases the item with a new due time (a backoff). kConflict/kNotFound as Complete.
  virtual Status Retry(WorkItemId id, std::string_view owner, Timestamp due_at) = 0;
  // Extends leases this owner holds (long work).
  virtual Status Renew(const std::vector<WorkItemId>& ids, std::string_view owner, Timestamp lease_until) = 0;
  // Releases every lease `owner` holds (a node that restarts under the same name), so its
  // items are claimable at once instead of when their leases expire. Returns how many.
  virtual Result<int64_t> ReleaseOwner(std::string_view owner) = 0;
  // Deletes the (queue, key) item whatever its state; kNotFound when there is none.
  virtual Status Cancel(std::string_view queue, std::string_view key) = 0;
  virtual Result<std::optional<WorkItem>> Find(std::string_view queue, std::string_view key) = 0;
  // The earliest time an item of `queue` becomes claimable (its due time, or its lease's end),
  // so a worker sleeps until then (Clock::SleepUntil); nullopt when the queue is empty.
  virtual Result<std::optional<Timestamp>> NextDue(std::string_view queue) = 0;
};

}  // namespace rapport
