#include "store/sql/sql_analytics_store.h"

#include <fmt/format.h>

#include <cstdlib>

#include "store/sql/sql_store.h"

namespace rapport::sql {

namespace {
constexpr int64_t kReadChunk = 10000;
}  // namespace

Status SqlAnalyticsStore::Commit(std::string_view consumer, int64_t position,
                                 const std::vector<AnalyticsDailyValue>& daily,
                                 const std::vector<AnalyticsEntityWrite>& entities) {
  return db_.Write([&](Session& s) -> Status {
    RAPPORT_TRY(CommitPositionIn(s, consumer, position, clock_.Now()));
    for (const AnalyticsDailyValue& v : daily) {
      std::string text = fmt::format("{}", v.value);  // shortest text that reads back exactly
      RAPPORT_TRY(
          s.Exec("INSERT INTO analytics_daily (workspace_id, dimension, key, day, metric, value) "
                 "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (workspace_id, dimension, key, day, metric) "
                 "DO UPDATE SET value = excluded.value",
                 {v.workspace_id, std::string_view(v.dimension), std::string_view(v.key), v.day,
                  std::string_view(v.metric), std::string_view(text)}));
    }
    for (const AnalyticsEntityWrite& e : entities) {
      if (e.state) {
        RAPPORT_TRY(
            s.Exec("INSERT INTO analytics_entities (workspace_id, kind, id, state) VALUES ($1, $2, $3, $4) "
                   "ON CONFLICT (workspace_id, kind, id) DO UPDATE SET state = excluded.state",
                   {e.workspace_id, std::string_view(e.kind), e.id, std::string_view(*e.state)}));
      } else {
        RAPPORT_TRY(s.Exec("DELETE FROM analytics_entities WHERE workspace_id = $1 AND kind = $2 AND id = $3",
                           {e.workspace_id, std::string_view(e.kind), e.id}));
      }
    }
    return {};
  });
}

Status SqlAnalyticsStore::ForEachDaily(const std::function<bool(const AnalyticsDailyValue&)>& fn) {
  // Keyset pages over the primary key, each its own read (workspace ids are positive).
  AnalyticsDailyValue last;
  last.workspace_id = -1;
  while (true) {
    std::vector<AnalyticsDailyValue> page;
    RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
      page.clear();
      RAPPORT_TRY(
          s.Exec("SELECT workspace_id, dimension, key, day, metric, value FROM analytics_daily "
                 "WHERE (workspace_id, dimension, key, day, metric) > ($1, $2, $3, $4, $5) "
                 "ORDER BY workspace_id, dimension, key, day, metric LIMIT $6",
                 {last.workspace_id, std::string_view(last.dimension), std::string_view(last.key), last.day,
                  std::string_view(last.metric), kReadChunk},
                 [&](const Row& r) {
                   AnalyticsDailyValue v;
                   v.workspace_id = r.Int(0);
                   v.dimension = std::string(r.Text(1));
                   v.key = std::string(r.Text(2));
                   v.day = r.Int(3);
                   v.metric = std::string(r.Text(4));
                   v.value = std::strtod(std::string(r.Text(5)).c_str(), nullptr);
                   page.push_back(std::move(v));
                 }));
      return {};
    }));
    for (const AnalyticsDailyValue& v : page)
      if (!fn(v)) return {};
    if (static_cast<int64_t>(page.size()) < kReadChunk) return {};
    last = page.back();
  }
}

Status SqlAnalyticsStore::ForEachEntity(
    const std::function<bool(WorkspaceId, std::string_view kind, int64_t id, std::string_view state)>& fn) {
  WorkspaceId ws = -1;
  std::string kind;
  int64_t id = 0;
  while (true) {
    struct Item {
      WorkspaceId ws;
      std::string kind;
      int64_t id;
      std::string state;
    };
    std::vector<Item> page;
    RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
      page.clear();
      RAPPORT_TRY(
          s.Exec("SELECT workspace_id, kind, id, state FROM analytics_entities "
                 "WHERE (workspace_id, kind, id) > ($1, $2, $3) ORDER BY workspace_id, kind, id LIMIT $4",
                 {ws, std::string_view(kind), id, kReadChunk}, [&](const Row& r) {
                   page.push_back(Item{r.Int(0), std::string(r.Text(1)), r.Int(2), std::string(r.Text(3))});
                 }));
      return {};
    }));
    for (const Item& it : page)
      if (!fn(it.ws, it.kind, it.id, it.state)) return {};
    if (static_cast<int64_t>(page.size()) < kReadChunk) return {};
    ws = page.back().ws;
    kind = page.back().kind;
    id = page.back().id;
  }
}

Status SqlAnalyticsStore::Reset(std::string_view consumer) {
  return db_.Write([&](Session& s) -> Status {
    RAPPORT_TRY(s.Exec("DELETE FROM analytics_daily", {}));
    RAPPORT_TRY(s.Exec("DELETE FROM analytics_entities", {}));
    RAPPORT_TRY(s.Exec("DELETE FROM feed_consumers WHERE name = $1", {consumer}));
    return {};
  });
}

}  // namespace rapport::sql
