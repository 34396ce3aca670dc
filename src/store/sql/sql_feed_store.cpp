#include "store/sql/codec.h"
#include "store/sql/sql_store.h"

namespace rapport::sql {

namespace {

Status CheckConsumer(std::string_view consumer) {
  if (consumer.empty() || consumer.size() > 255)
    return Error::Invalid("consumer", "a consumer name is 1 to 255 bytes");
  return {};
}

}  // namespace

Result<int64_t> ReservePositions(Session& s, int64_t n) {
  int64_t last = 0;
  RAPPORT_TRY(s.Exec("UPDATE feed_clock SET position = position + $1 WHERE id = 1 RETURNING position", {n},
                     [&](const Row& r) { last = r.Int(0); }));
  if (last == 0) return Error::Internal("the feed clock row is missing");
  return last;
}

Status CommitPositionIn(Session& s, std::string_view consumer, int64_t position, Timestamp now) {
  RAPPORT_TRY(CheckConsumer(consumer));
  if (position < 0) return Error::Invalid("position", "a feed position is 0 or more");
  RAPPORT_ASSIGN_OR_RETURN(
      int64_t changed,
      s.Exec(
          "INSERT INTO feed_consumers (name, position, updated_at) VALUES ($1, $2, $3) "
          "ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at "
          "WHERE feed_consumers.position <= excluded.position",
          {consumer, position, ToMicros(now)}));
  if (changed == 0)
    return Error::Conflict("consumer '" + std::string(consumer) + "' has committed a later position",
                           "position");
  return {};
}

Result<std::vector<Event>> SqlFeedStore::Read(int64_t after, int limit) {
  if (limit < 1 || limit > kMaxRead) return Error::Invalid("limit", "read 1 to 10000 events at a time");
  // SQLite: the id is the position (one writer; ids never reused), read along the rowid.
  static const std::string sqlite_sql =
      "SELECT " + std::string(kEventColumns) + ", id FROM events WHERE id > $1 ORDER BY id LIMIT $2";
  static const std::string pg_sql = "SELECT " + std::string(kEventColumns) +
                                    ", position FROM events WHERE position > $1 ORDER BY position LIMIT $2";
  std::vector<Event> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    // No reserve(limit): a consumer woken per event reads one or two, and a 10,000-slot vector
    // per wake is megabytes allocated, faulted in and freed for nothing.
    out.clear();
    RAPPORT_TRY(s.Exec(s.pg() ? pg_sql : sqlite_sql, {after, int64_t{limit}}, [&](const Row& r) {
      out.push_back(ReadEvent(r));
      out.back().position = r.Int(7);
    }));
    return {};
  }));
  return out;
}

Result<int64_t> SqlFeedStore::Head() {
  int64_t head = 0;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    std::string_view sql = s.pg() ? "SELECT position FROM feed_clock WHERE id = 1"
                                  : "SELECT seq FROM sqlite_sequence WHERE name = 'events'";
    RAPPORT_TRY(s.Exec(sql, {}, [&](const Row& r) { head = r.Int(0); }));
    return {};
  }));
  return head;
}

Result<int64_t> SqlFeedStore::Position(std::string_view consumer) {
  RAPPORT_TRY(CheckConsumer(consumer));
  int64_t position = 0;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_TRY(s.Exec("SELECT position FROM feed_consumers WHERE name = $1", {consumer},
                       [&](const Row& r) { position = r.Int(0); }));
    return {};
  }));
  return position;
}

Status SqlFeedStore::Commit(std::string_view consumer, int64_t position,
                            const std::vector<ConsumerStateWrite>& state) {
  RAPPORT_TRY(CheckConsumer(consumer));
  for (const ConsumerStateWrite& w : state)
    if (w.key.empty() || w.key.size() > 255) return Error::Invalid("key", "a state key is 1 to 255 bytes");
  Timestamp now = clock_.Now();
  return db_.Write([&](Session& s) -> Status {
    RAPPORT_TRY(CommitPositionIn(s, consumer, position, now));
    for (const ConsumerStateWrite& w : state) {
      if (w.value) {
        RAPPORT_TRY(
            s.Exec("INSERT INTO feed_consumer_state (consumer, key, value) VALUES ($1, $2, $3) "
                   "ON CONFLICT (consumer, key) DO UPDATE SET value = excluded.value",
                   {consumer, std::string_view(w.key), Blob{*w.value}}));
      } else {
        RAPPORT_TRY(s.Exec("DELETE FROM feed_consumer_state WHERE consumer = $1 AND key = $2",
                           {consumer, std::string_view(w.key)}));
      }
    }
    return {};
  });
}

Result<std::optional<std::string>> SqlFeedStore::State(std::string_view consumer, std::string_view key) {
  RAPPORT_TRY(CheckConsumer(consumer));
  std::optional<std::string> value;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_TRY(s.Exec("SELECT value FROM feed_consumer_state WHERE consumer = $1 AND key = $2",
                       {consumer, key}, [&](const Row& r) { value = r.Bytes(0); }));
    return {};
  }));
  return value;
}

}  // namespace rapport::sql
