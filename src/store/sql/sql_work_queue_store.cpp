#include "store/sql/sql_work_queue_store.h"

#include <algorithm>

#include "store/sql/lease_claim.h"

namespace rapport::sql {

namespace {

constexpr std::string_view kColumns =
    "id, workspace_id, queue, key, payload, due_at, attempts, lease_owner, lease_until, created_at";

WorkItem ReadItem(const Row& r) {
  WorkItem w;
  w.id = r.Int(0);
  w.workspace_id = r.Int(1);
  w.queue = std::string(r.Text(2));
  w.key = std::string(r.Text(3));
  w.payload = std::string(r.Text(4));
  w.due_at = FromMicros(r.Int(5));
  w.attempts = static_cast<int>(r.Int(6));
  w.lease_owner = std::string(r.Text(7));
  w.lease_until = FromMicros(r.Int(8));
  w.created_at = FromMicros(r.Int(9));
  return w;
}

Status ValidateQueue(std::string_view queue) {
  if (queue.empty() || queue.size() > 64)
    return Error::Invalid("queue", "a queue name is 1 to 64 characters");
  for (char c : queue)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return Error::Invalid("queue", "a queue name holds a-z, 0-9, '.', '_' and '-'");
  return {};
}

Status ValidateOwner(std::string_view owner) {
  if (owner.empty()) return Error::Invalid("owner", "a lease needs an owner");
  return {};
}

}  // namespace

Result<WorkItem> SqlWorkQueueStore::Schedule(const WorkItem& item) {
  RAPPORT_TRY(ValidateQueue(item.queue));
  if (item.workspace_id <= 0) return Error::Invalid("workspace_id", "an item belongs to a workspace");
  if (item.key.empty() || item.key.size() > 255) return Error::Invalid("key", "a key is 1 to 255 bytes");
  std::optional<WorkItem> out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    static const std::string sql =
        "INSERT INTO work_items (workspace_id, queue, key, payload, due_at, attempts, lease_owner, "
        "lease_until, "
        "created_at) VALUES ($1, $2, $3, $4, $5, 0, '', 0, $6) ON CONFLICT (queue, key) DO UPDATE SET "
        "payload = excluded.payload, due_at = excluded.due_at, lease_owner = '', lease_until = 0 RETURNING " +
        std::string(kColumns);
    RAPPORT_TRY(s.Exec(sql,
                       {item.workspace_id, std::string_view(item.queue), std::string_view(item.key),
                        std::string_view(item.payload), ToMicros(item.due_at), ToMicros(now)},
                       [&](const Row& r) { out = ReadItem(r); }));
    return {};
  }));
  if (!out) return Error::Internal("schedule returned no row");
  return std::move(*out);
}

Result<std::vector<WorkItem>> SqlWorkQueueStore::Claim(std::string_view queue, int max,
                                                       std::string_view owner, Timestamp now, Micros lease) {
  RAPPORT_TRY(ValidateQueue(queue));
  if (max < 1 || max > 1000) return Error::Invalid("max", "claim 1 to 1000 items at a time");
  RAPPORT_TRY(ValidateOwner(owner));
  if (lease.count() <= 0) return Error::Invalid("lease", "a lease lasts a positive time");
  std::vector<WorkItem> out;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out.clear();
    static const auto build = [](bool pg) {
      return LeaseClaimStatement(
          "work_items", "lease_owner = $1, lease_until = $2, attempts = attempts + 1", "due_at",
          {{"lease_owner = '' AND queue = $4 AND due_at <= $3", "due_at, id"},
           {"lease_owner <> '' AND queue = $4 AND lease_until <= $3", "lease_until, id"}},
          "$5", kColumns, pg);
    };
    static const std::string sqlite_sql = build(false);
    static const std::string pg_sql = build(true);
    RAPPORT_TRY(s.Exec(s.pg() ? pg_sql : sqlite_sql,
                       {owner, ToMicros(now + lease), ToMicros(now), queue, int64_t{max}},
                       [&](const Row& r) { out.push_back(ReadItem(r)); }));
    return {};
  }));
  std::sort(out.begin(), out.end(), [](const WorkItem& a, const WorkItem& b) {
    return std::pair(a.due_at, a.id) < std::pair(b.due_at, b.id);
  });
  return out;
}

Status SqlWorkQueueStore::HeldBy(Session& s, WorkItemId id, std::string_view owner) {
  bool exists = false;
  RAPPORT_TRY(s.Exec("SELECT 1 FROM work_items WHERE id = $1", {id}, [&](const Row&) { exists = true; }));
  if (!exists) return Error::NotFound("no work item " + std::to_string(id));
  return Error::Conflict(
      "work item " + std::to_string(id) + " is no longer leased to '" + std::string(owner) + "'", "owner");
}

Status SqlWorkQueueStore::Complete(WorkItemId id, std::string_view owner) {
  RAPPORT_TRY(ValidateOwner(owner));
  return db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(
        int64_t n, s.Exec("DELETE FROM work_items WHERE id = $1 AND lease_owner = $2", {id, owner}, {}));
    if (n == 0) return HeldBy(s, id, owner);
    return {};
  });
}

Status SqlWorkQueueStore::Retry(WorkItemId id, std::string_view owner, Timestamp due_at) {
  RAPPORT_TRY(ValidateOwner(owner));
  return db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(
        int64_t n,
        s.Exec("UPDATE work_items SET lease_owner = '', lease_until = 0, due_at = $3 WHERE id = $1 AND "
               "lease_owner = $2",
               {id, owner, ToMicros(due_at)}, {}));
    if (n == 0) return HeldBy(s, id, owner);
    return {};
  });
}

Status SqlWorkQueueStore::Renew(const std::vector<WorkItemId>& ids, std::string_view owner,
                                Timestamp lease_until) {
  RAPPORT_TRY(ValidateOwner(owner));
  return db_.Write([&](Session& s) -> Status {
    for (WorkItemId id : ids)
      RAPPORT_TRY(s.Exec("UPDATE work_items SET lease_until = $3 WHERE id = $1 AND lease_owner = $2",
                         {id, owner, ToMicros(lease_until)}, {}));
    return {};
  });
}

Result<int64_t> SqlWorkQueueStore::ReleaseOwner(std::string_view owner) {
  RAPPORT_TRY(ValidateOwner(owner));
  int64_t released = 0;
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(
        released, s.Exec("UPDATE work_items SET lease_owner = '', lease_until = 0 WHERE lease_owner = $1",
                         {owner}, {}));
    return {};
  }));
  return released;
}

Status SqlWorkQueueStore::Cancel(std::string_view queue, std::string_view key) {
  return db_.Write([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(
        int64_t n, s.Exec("DELETE FROM work_items WHERE queue = $1 AND key = $2", {queue, key}, {}));
    if (n == 0)
      return Error::NotFound("no work item '" + std::string(key) + "' in queue '" + std::string(queue) + "'");
    return {};
  });
}

Result<std::optional<WorkItem>> SqlWorkQueueStore::Find(std::string_view queue, std::string_view key) {
  std::optional<WorkItem> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    static const std::string sql =
        "SELECT " + std::string(kColumns) + " FROM work_items WHERE queue = $1 AND key = $2";
    RAPPORT_TRY(s.Exec(sql, {queue, key}, [&](const Row& r) { out = ReadItem(r); }));
    return {};
  }));
  return out;
}

Result<std::optional<Timestamp>> SqlWorkQueueStore::NextDue(std::string_view queue) {
  std::optional<Timestamp> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    // Each MIN reads the first entry of its partial index.
    auto take = [&](const Row& r) {
      if (r.IsNull(0)) return;
      Timestamp t = FromMicros(r.Int(0));
      if (!out || t < *out) out = t;
    };
    RAPPORT_TRY(
        s.Exec("SELECT MIN(due_at) FROM work_items WHERE lease_owner = '' AND queue = $1", {queue}, take));
    RAPPORT_TRY(s.Exec("SELECT MIN(lease_until) FROM work_items WHERE lease_owner <> '' AND queue = $1",
                       {queue}, take));
    return {};
  }));
  return out;
}

}  // namespace rapport::sql
