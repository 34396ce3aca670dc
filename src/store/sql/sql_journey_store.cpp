#include "store/sql/sql_journey_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/json_write.h"
#include "store/sql/change_events.h"
#include "store/sql/sql_store.h"

namespace rapport::sql {

namespace {

constexpr std::string_view kJourneyColumns =
    "j.id, j.workspace_id, j.name, j.status, j.version, v.definition, j.created_at, j.updated_at";
constexpr std::string_view kJourneyFrom =
    " FROM journeys j JOIN journey_versions v ON v.journey_id = j.id AND v.version = j.version ";
constexpr std::string_view kRunColumns =
    "id, workspace_id, journey_id, version, contact_id, run_key, state, step, seq, context, revenue_cents, "
    "reason, entered_at, updated_at";

Journey ReadJourney(const Row& r) {
  Journey j;
  j.id = r.Int(0);
  j.workspace_id = r.Int(1);
  j.name = std::string(r.Text(2));
  j.status = ParseJourneyStatus(r.Text(3)).value_or(JourneyStatus::kDraft);
  j.version = static_cast<int>(r.Int(4));
  j.definition = std::string(r.Text(5));
  j.created_at = FromMicros(r.Int(6));
  j.updated_at = FromMicros(r.Int(7));
  return j;
}

JourneyRun ReadRun(const Row& r) {
  JourneyRun x;
  x.id = r.Int(0);
  x.workspace_id = r.Int(1);
  x.journey_id = r.Int(2);
  x.version = static_cast<int>(r.Int(3));
  x.contact_id = r.Int(4);
  x.run_key = std::string(r.Text(5));
  x.state = ParseRunState(r.Text(6)).value_or(RunState::kActive);
  x.step = std::string(r.Text(7));
  x.seq = r.Int(8);
  x.context = std::string(r.Text(9));
  x.revenue_cents = r.Int(10);
  x.reason = std::string(r.Text(11));
  x.entered_at = FromMicros(r.Int(12));
  x.updated_at = FromMicros(r.Int(13));
  return x;
}

Result<std::optional<Journey>> FindJourney(Session& s, WorkspaceId ws, std::string_view column, Param value) {
  std::optional<Journey> out;
  std::string sql = "SELECT " + std::string(kJourneyColumns) + std::string(kJourneyFrom) +
                    "WHERE j.workspace_id = $1 AND j." + std::string(column) + " = $2";
  RAPPORT_TRY(s.Exec(sql, {ws, value}, [&](const Row& r) { out = ReadJourney(r); }));
  return out;
}

Status CheckDefinition(std::string_view definition) {
  if (definition.empty()) return Error::Invalid("", "a journey needs a document");
  if (definition.size() > kMaxJourneyDocumentBytes)
    return Error::Invalid("",
                          fmt::format("a journey document is at most {} bytes", kMaxJourneyDocumentBytes));
  return {};
}

std::string RunTimerKey(RunId id) { return fmt::format("run:{}", id); }

Status ScheduleTimer(Session& s, WorkspaceId ws, std::string_view key, std::string_view payload,
                     Timestamp due, Timestamp now) {
  RAPPORT_TRY(
      s.Exec("INSERT INTO work_items (workspace_id, queue, key, payload, due_at, attempts, lease_owner, "
             "lease_until, "
             "created_at) VALUES ($1, $2, $3, $4, $5, 0, '', 0, $6) ON CONFLICT (queue, key) DO UPDATE SET "
             "payload = excluded.payload, due_at = excluded.due_at, lease_owner = '', lease_until = 0",
             {ws, kJourneyTimerQueue, key, payload, ToMicros(due), ToMicros(now)}));
  return {};
}

Status DeleteTimer(Session& s, std::string_view key) {
  RAPPORT_TRY(s.Exec("DELETE FROM work_items WHERE queue = $1 AND key = $2", {kJourneyTimerQueue, key}));
  return {};
}

}  // namespace

Result<Journey> SqlJourneyStore::Create(const Journey& in) {
  RAPPORT_TRY(ValidateSlug(in.name, "name", "a journey name"));
  RAPPORT_TRY(CheckDefinition(in.definition));
  std::optional<Journey> out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out.reset();
    RAPPORT_ASSIGN_OR_RETURN(auto existing,
                             FindJourney(s, in.workspace_id, "name", std::string_view(in.name)));
    if (existing) return Error::Conflict("a journey with this name exists", "name");
    JourneyId id = 0;
    RAPPORT_TRY(
        s.Exec("INSERT INTO journeys (workspace_id, name, status, version, created_at, updated_at) "
               "VALUES ($1, $2, $3, 1, $4, $4) RETURNING id",
               {in.workspace_id, std::string_view(in.name), JourneyStatusName(in.status), ToMicros(now)},
               [&](const Row& r) { id = r.Int(0); }));
    RAPPORT_TRY(
        s.Exec("INSERT INTO journey_versions (journey_id, version, definition, created_at) "
               "VALUES ($1, 1, $2, $3)",
               {id, std::string_view(in.definition), ToMicros(now)}));
    RAPPORT_ASSIGN_OR_RETURN(out, FindJourney(s, in.workspace_id, "id", id));
    return {};
  }));
  if (!out) return Error::Internal("journey insert returned no row");
  return std::move(*out);
}

Result<Journey> SqlJourneyStore::Get(WorkspaceId ws, JourneyId id) {
  std::optional<Journey> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindJourney(s, ws, "id", id));
    return {};
  }));
  if (!out) return Error::NotFound("no journey " + std::to_string(id));
  return std::move(*out);
}

Result<Journey> SqlJourneyStore::GetByName(WorkspaceId ws, std::string_view name) {
  std::optional<Journey> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    RAPPORT_ASSIGN_OR_RETURN(out, FindJourney(s, ws, "name", name));
    return {};
  }));
  if (!out) return Error::NotFound("no journey named '" + std::string(name) + "'");
  return std::move(*out);
}

Result<std::vector<Journey>> SqlJourneyStore::List(WorkspaceId ws) {
  std::vector<Journey> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(s.Exec("SELECT " + std::string(kJourneyColumns) + std::string(kJourneyFrom) +
                           "WHERE j.workspace_id = $1 ORDER BY j.name",
                       {ws}, [&](const Row& r) { out.push_back(ReadJourney(r)); }));
    return {};
  }));
  return out;
}

Result<std::vector<Journey>> SqlJourneyStore::ListLive() {
  std::vector<Journey> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(s.Exec("SELECT " + std::string(kJourneyColumns) + std::string(kJourneyFrom) +
                           "WHERE j.status IN ('active', 'paused') ORDER BY j.id",
                       {}, [&](const Row& r) { out.push_back(ReadJourney(r)); }));
    return {};
  }));
  return out;
}

Result<Journey> SqlJourneyStore::AddVersion(WorkspaceId ws, JourneyId id, std::string_view definition) {
  RAPPORT_TRY(CheckDefinition(definition));
  std::optional<Journey> out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out.reset();
    RAPPORT_ASSIGN_OR_RETURN(auto j, FindJourney(s, ws, "id", id));
    if (!j) return Error::NotFound("no journey " + std::to_string(id));
    int64_t next = j->version + 1;
    RAPPORT_TRY(
        s.Exec("INSERT INTO journey_versions (journey_id, version, definition, created_at) "
               "VALUES ($1, $2, $3, $4)",
               {id, next, definition, ToMicros(now)}));
    RAPPORT_TRY(
        s.Exec("UPDATE journeys SET version = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2",
               {ws, id, next, ToMicros(now)}));
    RAPPORT_ASSIGN_OR_RETURN(out, FindJourney(s, ws, "id", id));
    return {};
  }));
  return std::move(*out);
}

Result<std::string> SqlJourneyStore::GetVersion(WorkspaceId ws, JourneyId id, int version) {
  std::optional<std::string> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.reset();
    RAPPORT_TRY(
        s.Exec("SELECT v.definition FROM journey_versions v JOIN journeys j ON j.id = v.journey_id "
               "WHERE j.workspace_id = $1 AND v.journey_id = $2 AND v.version = $3",
               {ws, id, int64_t{version}}, [&](const Row& r) { out = std::string(r.Text(0)); }));
    return {};
  }));
  if (!out) return Error::NotFound(fmt::format("no version {} of journey {}", version, id));
  return std::move(*out);
}

Result<Journey> SqlJourneyStore::SetStatus(WorkspaceId ws, JourneyId id, JourneyStatus status) {
  std::optional<Journey> out;
  Timestamp now = clock_.Now();
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    out.reset();
    RAPPORT_TRY(s.Exec("UPDATE journeys SET status = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2",
                       {ws, id, JourneyStatusName(status), ToMicros(now)}));
    RAPPORT_ASSIGN_OR_RETURN(out, FindJourney(s, ws, "id", id));
    return {};
  }));
  if (!out) return Error::NotFound("no journey " + std::to_string(id));
  return std::move(*out);
}

Status SqlJourneyStore::Apply(JourneyWrite& w) {
  Timestamp now = clock_.Now();
  std::vector<RunId> ids(w.runs.size(), 0);
  // The timeline events' properties, serialized once outside the transaction (which may run
  // again); an event of a run inserted by this write gets its "run_id" spliced in at the end,
  // where setting the key would have put it.
  std::vector<std::string> texts;
  std::vector<ChangeEvent> events;
  texts.reserve(w.events.size());
  for (const JourneyEvent& e : w.events) {
    // Empty: a run of this write whose properties already hold a run_id (replaced in place below).
    bool replaced =
        e.run_index >= 0 && static_cast<size_t>(e.run_index) < ids.size() && e.properties.contains("run_id");
    texts.emplace_back();
    if (!replaced) AppendJson(texts.back(), e.properties);
  }
  RAPPORT_TRY(db_.Write([&](Session& s) -> Status {
    for (size_t i = 0; i < w.runs.size(); ++i) {
      RunWrite& rw = w.runs[i];
      const JourneyRun& r = rw.run;
      RunId id = r.id;
      std::string_view state = RunStateName(r.state);
      if (id == 0) {
        RAPPORT_TRY(s.Exec(
            "INSERT INTO journey_runs (workspace_id, contact_id, journey_id, version, run_key, state, step, "
            "seq, "
            "context, revenue_cents, reason, entered_at, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
            {r.workspace_id, r.contact_id, r.journey_id, int64_t{r.version}, std::string_view(r.run_key),
             state, std::string_view(r.step), r.seq, std::string_view(r.context), r.revenue_cents,
             std::string_view(r.reason), ToMicros(r.entered_at == Timestamp{} ? now : r.entered_at)},
            [&](const Row& row) { id = row.Int(0); }));
      } else {
        RAPPORT_ASSIGN_OR_RETURN(
            int64_t changed,
            s.Exec(
                "UPDATE journey_runs SET state = $3, step = $4, seq = $5, context = $6, revenue_cents = $7, "
                "reason = $8, updated_at = $9 WHERE id = $1 AND seq = $2",
                {id, rw.expect_seq, state, std::string_view(r.step), r.seq, std::string_view(r.context),
                 r.revenue_cents, std::string_view(r.reason), ToMicros(now)}));
        if (changed == 0) return Error::Conflict(fmt::format("run {} moved meanwhile", id), "seq");
      }
      ids[i] = id;
      std::string key = RunTimerKey(id);
      if (rw.timer && !RunEnded(r.state)) {
        std::string payload = fmt::format("{{\"run_id\":{},\"seq\":{}}}", id, r.seq);
        RAPPORT_TRY(ScheduleTimer(s, r.workspace_id, key, payload, *rw.timer, now));
      } else if (r.id != 0) {
        RAPPORT_TRY(DeleteTimer(s, key));
      }
    }
    for (const TimerWrite& t : w.timers) {
      if (t.due)
        RAPPORT_TRY(ScheduleTimer(s, t.workspace_id, t.key, t.payload, *t.due, now));
      else
        RAPPORT_TRY(DeleteTimer(s, t.key));
    }
    for (const StepCount& c : w.counts) {
      RAPPORT_TRY(
          s.Exec("INSERT INTO journey_step_counts (journey_id, version, step, workspace_id, entered) "
                 "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (journey_id, version, step) DO UPDATE SET "
                 "entered = journey_step_counts.entered + excluded.entered",
                 {c.journey_id, int64_t{c.version}, std::string_view(c.step), c.workspace_id, c.entered}));
    }
    if (!w.events.empty()) {
      events.clear();
      events.reserve(w.events.size());
      for (size_t i = 0; i < w.events.size(); ++i) {
        const JourneyEvent& e = w.events[i];
        std::string text;
        if (e.run_index < 0 || static_cast<size_t>(e.run_index) >= ids.size()) {
          text = texts[i];
        } else if (!texts[i].empty()) {
          // "{...}" -> "{...,"run_id":N}" (texts[i] is an object's text: it ends with '}').
          text = texts[i];
          text.pop_back();
          text += fmt::format("{}\"run_id\":{}}}", text.size() > 1 ? "," : "", ids[e.run_index]);
        } else {
          json::object props = e.properties;
          props["run_id"] = ids[e.run_index];
          AppendJson(text, props);
        }
        events.push_back(ChangeEvent{e.workspace_id, e.contact_id, e.name, std::move(text)});
      }
      RAPPORT_TRY(InsertChangeEvents(s, events, now));
    }
    if (w.position) RAPPORT_TRY(CommitPositionIn(s, w.position->first, w.position->second, now));
    return {};
  }));
  for (size_t i = 0; i < w.runs.size(); ++i) w.runs[i].run.id = ids[i];
  return {};
}

Result<JourneyRun> SqlJourneyStore::GetRun(RunId id) {
  std::optional<JourneyRun> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.reset();
    RAPPORT_TRY(s.Exec("SELECT " + std::string(kRunColumns) + " FROM journey_runs WHERE id = $1", {id},
                       [&](const Row& r) { out = ReadRun(r); }));
    return {};
  }));
  if (!out) return Error::NotFound("no journey run " + std::to_string(id));
  return std::move(*out);
}

Result<std::vector<JourneyRun>> SqlJourneyStore::GetRuns(std::span<const RunId> ids) {
  // One statement text of kChunk parameters (prepared once), the unused ones 0 (no run's id).
  constexpr size_t kChunk = 250;
  static const std::string sql = [] {
    std::string q = "SELECT " + std::string(kRunColumns) + " FROM journey_runs WHERE id IN (";
    for (size_t i = 1; i <= kChunk; ++i) q += fmt::format("{}${}", i == 1 ? "" : ", ", i);
    return q + ")";
  }();
  std::vector<JourneyRun> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    std::vector<Param> params(kChunk, int64_t{0});
    for (size_t begin = 0; begin < ids.size(); begin += kChunk) {
      for (size_t i = 0; i < kChunk; ++i) params[i] = begin + i < ids.size() ? ids[begin + i] : int64_t{0};
      RAPPORT_TRY(
          s.Exec(sql, std::span<const Param>(params), [&](const Row& r) { out.push_back(ReadRun(r)); }));
    }
    return {};
  }));
  std::sort(out.begin(), out.end(), [](const JourneyRun& a, const JourneyRun& b) { return a.id < b.id; });
  return out;
}

Result<std::vector<JourneyRun>> SqlJourneyStore::LiveRuns(WorkspaceId ws, ContactId contact) {
  std::vector<JourneyRun> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(s.Exec("SELECT " + std::string(kRunColumns) +
                           " FROM journey_runs WHERE workspace_id = $1 AND contact_id = $2 AND state IN "
                           "('active', 'waiting') ORDER BY id",
                       {ws, contact}, [&](const Row& r) { out.push_back(ReadRun(r)); }));
    return {};
  }));
  return out;
}

Result<std::vector<JourneyRun>> SqlJourneyStore::ContactRuns(WorkspaceId ws, ContactId contact, int limit) {
  if (limit < 1 || limit > 1000) return Error::Invalid("limit", "limit is 1 to 1000");
  std::vector<JourneyRun> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.clear();
    RAPPORT_TRY(
        s.Exec("SELECT " + std::string(kRunColumns) +
                   " FROM journey_runs WHERE workspace_id = $1 AND contact_id = $2 ORDER BY id DESC LIMIT $3",
               {ws, contact, int64_t{limit}}, [&](const Row& r) { out.push_back(ReadRun(r)); }));
    return {};
  }));
  return out;
}

Result<std::optional<JourneyRun>> SqlJourneyStore::LatestRun(WorkspaceId ws, JourneyId journey,
                                                             ContactId contact,
                                                             const std::optional<std::string>& key) {
  std::optional<JourneyRun> out;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    out.reset();
    auto row = [&](const Row& r) { out = ReadRun(r); };
    if (key)
      RAPPORT_TRY(s.Exec("SELECT " + std::string(kRunColumns) +
                             " FROM journey_runs WHERE journey_id = $1 AND contact_id = $2 AND run_key = $3 "
                             "AND workspace_id = $4 ORDER BY id DESC LIMIT 1",
                         {journey, contact, std::string_view(*key), ws}, row));
    else
      RAPPORT_TRY(
          s.Exec("SELECT " + std::string(kRunColumns) +
                     " FROM journey_runs WHERE journey_id = $1 AND contact_id = $2 AND workspace_id = $3 "
                     "ORDER BY id DESC LIMIT 1",
                 {journey, contact, ws}, row));
    return {};
  }));
  return out;
}

Result<std::vector<JourneyStatsRow>> SqlJourneyStore::Stats(WorkspaceId ws, JourneyId id) {
  std::map<std::pair<int, std::string>, JourneyStatsRow> rows;
  RAPPORT_TRY(db_.Read([&](Session& s) -> Status {
    rows.clear();
    auto at = [&](int version, std::string step) -> JourneyStatsRow& {
      JourneyStatsRow& r = rows[{version, step}];
      r.version = version;
      r.step = std::move(step);
      return r;
    };
    RAPPORT_TRY(s.Exec(
        "SELECT version, step, entered FROM journey_step_counts WHERE journey_id = $1 AND "
        "workspace_id = $2",
        {id, ws},
        [&](const Row& r) { at(static_cast<int>(r.Int(0)), std::string(r.Text(1))).entered += r.Int(2); }));
    RAPPORT_TRY(
        s.Exec("SELECT version, step, state, COUNT(*), COALESCE(SUM(revenue_cents), 0) FROM journey_runs "
               "WHERE journey_id = $1 AND workspace_id = $2 GROUP BY version, step, state",
               {id, ws}, [&](const Row& r) {
                 int version = static_cast<int>(r.Int(0));
                 RunState state = ParseRunState(r.Text(2)).value_or(RunState::kActive);
                 int64_t n = r.Int(3);
                 auto add = [&](JourneyStatsRow& x) {
                   switch (state) {
                     case RunState::kActive:
                     case RunState::kWaiting: x.waiting += n; break;
                     case RunState::kCompleted: x.completed += n; break;
                     case RunState::kExited: x.exited += n; break;
                     case RunState::kConverted:
                       x.converted += n;
                       x.revenue_cents += r.Int(4);
                       break;
                   }
                 };
                 JourneyStatsRow& v = at(version, "");
                 v.entered += n;
                 add(v);
                 std::string step(r.Text(1));
                 if (!step.empty()) add(at(version, std::move(step)));
               }));
    return {};
  }));
  std::vector<JourneyStatsRow> out;
  for (auto& [k, v] : rows)
    if (v.step.empty()) out.push_back(v);
  for (auto& [k, v] : rows)
    if (!v.step.empty()) out.push_back(v);
  return out;
}

}  // namespace rapport::sql
