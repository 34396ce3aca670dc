// The leased work queue (core/work_queue.h) over either SQL dialect: table work_items.
#pragma once

#include "core/clock.h"
#include "core/work_queue.h"
#include "store/sql/database.h"

namespace rapport::sql {

class SqlWorkQueueStore final : public WorkQueueStore {
 public:
  SqlWorkQueueStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<WorkItem> Schedule(const WorkItem& item) override;
  Result<std::vector<WorkItem>> Claim(std::string_view queue, int max, std::string_view owner, Timestamp now,
                                      Micros lease) override;
  Status Complete(WorkItemId id, std::string_view owner) override;
  Status Retry(WorkItemId id, std::string_view owner, Timestamp due_at) override;
  Status Renew(const std::vector<WorkItemId>& ids, std::string_view owner, Timestamp lease_until) override;
  Result<int64_t> ReleaseOwner(std::string_view owner) override;
  Status Cancel(std::string_view queue, std::string_view key) override;
  Result<std::optional<WorkItem>> Find(std::string_view queue, std::string_view key) override;
  Result<std::optional<Timestamp>> NextDue(std::string_view queue) override;

 private:
  // kConflict or kNotFound for an item `owner` no longer holds (after 0 rows changed).
  Status HeldBy(Session& s, WorkItemId id, std::string_view owner);
  Database& db_;
  const Clock& clock_;
};

}  // namespace rapport::sql
