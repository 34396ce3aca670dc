#include "automation/journey_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <tuple>

#include "automation/local_time.h"
#include "core/json_write.h"
#include "core/thread_name.h"

namespace rapport::automation {

namespace {

constexpr int kBatch = 1000;
constexpr Micros kLiveRefresh = std::chrono::seconds(2);

bool IsContactChange(std::string_view name) {
  return name == "contact.created" || name == "contact.updated" || name == "contact.imported" ||
         name == "contact.merged";
}

bool Machine(const Event& e) {
  const json::value* m = e.properties.if_contains("machine");
  return m && m->is_bool() && m->get_bool();
}

std::string TimerKey(std::string_view kind, JourneyId j, ContactId c) {
  return fmt::format("{}:{}:{}", kind, j, c);
}

// "kind:journey:contact" -> its parts.
bool SplitKey(std::string_view key, std::string& kind, JourneyId& j, ContactId& c) {
  auto a = key.find(':');
  auto b = key.find(':', a == std::string_view::npos ? a : a + 1);
  if (a == std::string_view::npos || b == std::string_view::npos) return false;
  kind = std::string(key.substr(0, a));
  try {
    j = std::stoll(std::string(key.substr(a + 1, b - a - 1)));
    c = std::stoll(std::string(key.substr(b + 1)));
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

std::optional<std::string> AnniversaryValue(const Trigger& t, const Contact& c) {
  if (t.attribute == "created_at") return FormatTimestamp(c.created_at);
  const json::value* v = c.attributes.if_contains(t.attribute);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

bool Empty(const JourneyWrite& w) { return w.runs.empty() && w.timers.empty() && w.events.empty(); }

// A batch's step counters, one row per journey, version and step (one upsert each).
void MergeCounts(JourneyWrite& w) {
  std::map<std::tuple<JourneyId, int, std::string>, size_t> at;
  std::vector<StepCount> merged;
  for (StepCount& c : w.counts) {
    auto [it, fresh] = at.try_emplace({c.journey_id, c.version, c.step}, merged.size());
    if (fresh)
      merged.push_back(std::move(c));
    else
      merged[it->second].entered += c.entered;
  }
  w.counts = std::move(merged);
}

}  // namespace

JourneyService::JourneyService(Store& store, const Clock& clock, const StepRegistry& registry,
                               JourneyPorts ports, JourneyServiceOptions options)
    : store_(store),
      clock_(clock),
      registry_(registry),
      options_(std::move(options)),
      ports_(ports),
      env_(MakeStoreEnv(store, clock, ports)) {}

JourneyService::~JourneyService() { Stop(); }

Status JourneyService::Start() {
  // A node restarted under the same name takes its timers back at once.
  RAPPORT_TRY(store_.work().ReleaseOwner(options_.owner));
  running_ = true;
  worker_ = std::thread([this] {
    NameThisThread("journeys");
    Run();
  });
  watcher_ = std::thread([this] {
    NameThisThread("journeys-wake");
    uint64_t seen = store_.feed().notifier().Generation();
    while (running_) {
      uint64_t now = store_.feed().notifier().WaitPast(seen, std::chrono::milliseconds(200));
      if (now != seen) {
        seen = now;
        alarm_.Ring();
      }
    }
  });
  return {};
}

void JourneyService::Stop() {
  if (!running_.exchange(false)) return;
  alarm_.Ring();
  store_.feed().notifier().Notify();
  if (worker_.joinable()) worker_.join();
  if (watcher_.joinable()) watcher_.join();
}

void JourneyService::Wake() { alarm_.Ring(); }

void JourneyService::Run() {
  while (running_) {
    auto done = Step();
    if (!done.ok()) {
      // The store is busy or away: try again shortly, nothing is lost (positions and leases).
      if (options_.on_error) options_.on_error(done.error());
      clock_.SleepUntil(clock_.Now() + std::chrono::milliseconds(500), alarm_);
      continue;
    }
    Timestamp wake = clock_.Now() + std::chrono::seconds(1);
    auto next = store_.work().NextDue(kJourneyTimerQueue);
    if (next.ok() && *next && **next < wake) wake = **next;
    if (wake > clock_.Now()) clock_.SleepUntil(wake, alarm_);
  }
}

Result<size_t> JourneyService::Step() {
  RAPPORT_ASSIGN_OR_RETURN(size_t events, Consume());
  RAPPORT_ASSIGN_OR_RETURN(size_t timers, RunTimers());
  return events + timers;
}

void JourneyService::Invalidate() {
  std::lock_guard lock(cache_mu_);
  live_loaded_ = false;
}

Result<std::shared_ptr<const JourneyDef>> JourneyService::Definition(WorkspaceId ws, JourneyId id,
                                                                     int version) {
  {
    std::lock_guard lock(cache_mu_);
    auto it = defs_.find({id, version});
    if (it != defs_.end()) return it->second;
  }
  RAPPORT_ASSIGN_OR_RETURN(std::string text, store_.journeys().GetVersion(ws, id, version));
  // Stored versions were checked when saved; templates are not looked up again (one deleted
  // since makes its sends skipped, with the reason, not the journey unreadable).
  RAPPORT_ASSIGN_OR_RETURN(JourneyDef def, ParseJourney(text, registry_));
  auto ptr = std::make_shared<const JourneyDef>(std::move(def));
  std::lock_guard lock(cache_mu_);
  defs_[{id, version}] = ptr;
  return ptr;
}

Result<JourneyService::LiveList> JourneyService::LiveJourneys(WorkspaceId ws) {
  static const LiveList kNone = std::make_shared<const LiveSet>();
  {
    std::lock_guard lock(cache_mu_);
    if (live_loaded_ && clock_.Now() - live_loaded_at_ < kLiveRefresh) {
      auto it = live_.find(ws);
      return it == live_.end() ? kNone : it->second;
    }
  }
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Journey> all, store_.journeys().ListLive());
  std::map<WorkspaceId, LiveSet> live;
  for (Journey& j : all) {
    LiveSet& set = live[j.workspace_id];
    std::shared_ptr<const JourneyDef> current;  // the version new runs start on
    // What the runs of every version may wait for: runs in flight finish on their own version.
    for (int v = 1; v <= j.version; ++v) {
      auto d = Definition(j.workspace_id, j.id, v);
      if (d.ok() && v == j.version) current = *d;
      if (!d.ok()) {
        set.hear_all = true;  // cannot tell what its runs wait for: read them for every event
        continue;
      }
      if ((*d)->goal) set.heard.insert((*d)->goal->event);
      for (const StepDef& step : (*d)->steps) {
        if (step.kind != "wait_for_event") continue;
        const json::value* name = step.config.if_contains("event");
        if (name && name->is_string())
          set.heard.insert(std::string(name->get_string()));
        else
          set.hear_all = true;
      }
    }
    if (!current) continue;  // a document that no longer parses (a step kind removed) starts nothing
    j.definition.clear();    // parsed once into current; the text is not needed per event
    set.journeys.push_back(Live{std::move(j), std::move(current)});
  }
  std::lock_guard lock(cache_mu_);
  live_.clear();
  for (auto& [w, set] : live) live_[w] = std::make_shared<const LiveSet>(std::move(set));
  live_loaded_ = true;
  live_loaded_at_ = clock_.Now();
  auto it = live_.find(ws);
  return it == live_.end() ? kNone : it->second;
}

// ---- the feed consumer ----------------------------------------------------------------------

Result<size_t> JourneyService::Consume() {
  std::lock_guard lock(mu_);
  RAPPORT_ASSIGN_OR_RETURN(int64_t position, store_.feed().Position(kJourneyConsumer));
  if (position == 0) {
    // First start: the history before journeys existed triggers nothing. The state key tells a
    // first start from one that began on an empty log.
    RAPPORT_ASSIGN_OR_RETURN(std::optional<std::string> started,
                             store_.feed().State(kJourneyConsumer, "started"));
    if (!started) {
      RAPPORT_ASSIGN_OR_RETURN(int64_t head, store_.feed().Head());
      RAPPORT_TRY(store_.feed().Commit(kJourneyConsumer, head, {ConsumerStateWrite{"started", "1"}}));
      return size_t{0};
    }
  }
  size_t read = 0;
  while (true) {
    RAPPORT_ASSIGN_OR_RETURN(std::vector<Event> batch, store_.feed().Read(position, kBatch));
    if (batch.empty()) break;
    // The whole batch commits in one transaction with the position. A run another node moved
    // meanwhile (kConflict: nothing was written) makes the batch read its runs again.
    Status st = ConsumeBatch(batch);
    for (int attempt = 1; !st.ok() && st.error().code == ErrorCode::kConflict && attempt < 3; ++attempt)
      st = ConsumeBatch(batch);
    RAPPORT_TRY(st);
    position = batch.back().position;
    read += batch.size();
    if (batch.size() < static_cast<size_t>(kBatch)) break;
  }
  return read;
}

Status JourneyService::ConsumeBatch(const std::vector<Event>& batch) {
  JourneyWrite w;
  for (const Event& e : batch) RAPPORT_TRY(HandleEvent(e, w));
  if (Empty(w)) return store_.feed().Commit(kJourneyConsumer, batch.back().position, {});
  w.position = {std::string(kJourneyConsumer), batch.back().position};
  MergeCounts(w);
  return store_.journeys().Apply(w);
}

Status JourneyService::HandleEvent(const Event& e, JourneyWrite& w) {
  if (e.contact_id <= 0) return {};
  RAPPORT_ASSIGN_OR_RETURN(LiveList live_list, LiveJourneys(e.workspace_id));
  const std::vector<Live>& live = live_list->journeys;
  Timestamp now = clock_.Now();
  // Goals and waits of the contact's runs, when the workspace has an active or paused journey one
  // of whose versions has a goal or a wait_for_event of this event's name (any other event reads
  // no run: most events are neither).
  // The runs are as this batch left them: a run written earlier in the batch is read from the
  // pending write (`w`), not the store, and changed there in place.
  if (!live.empty() && e.name.rfind("journey.", 0) != 0 && live_list->Heard(e.name)) {
    RAPPORT_ASSIGN_OR_RETURN(std::vector<JourneyRun> stored,
                             store_.journeys().LiveRuns(e.workspace_id, e.contact_id));
    std::vector<int> slots;  // w.runs index of each run, -1 for a run read from the store
    std::vector<JourneyRun> runs;
    for (JourneyRun& run : stored) {
      bool pending = false;
      for (const RunWrite& r : w.runs) pending = pending || r.run.id == run.id;
      if (!pending) {
        runs.push_back(std::move(run));
        slots.push_back(-1);
      }
    }
    for (size_t i = 0; i < w.runs.size(); ++i) {
      const JourneyRun& r = w.runs[i].run;
      if (r.workspace_id == e.workspace_id && r.contact_id == e.contact_id && !RunEnded(r.state)) {
        runs.push_back(r);
        slots.push_back(static_cast<int>(i));
      }
    }
    for (size_t k = 0; k < runs.size(); ++k) {
      JourneyRun& run = runs[k];
      auto def = Definition(run.workspace_id, run.journey_id, run.version);
      if (!def.ok()) continue;
      int slot = slots[k];
      int64_t seq = run.seq;
      std::optional<Timestamp> timer;
      if (auto revenue = GoalReached(**def, run, e)) {
        run.state = RunState::kConverted;
        run.revenue_cents = *revenue;
        run.reason = "goal " + e.name;
        json::object props{{"journey_id", run.journey_id},
                           {"version", run.version},
                           {"step", run.step},
                           {"goal", e.name},
                           {"revenue", static_cast<double>(*revenue) / 100.0},
                           {"event_id", e.id}};
        if (run.id != 0) props["run_id"] = run.id;
        // A run entered in this batch has no id yet: the store adds it ("run_index").
        w.events.push_back(JourneyEvent{e.workspace_id, e.contact_id, "journey.converted", std::move(props),
                                        run.id == 0 ? slot : -1});
      } else if (WaitMatched(run, e)) {
        json::object ctx = ParseContext(run.context);
        ctx["matched"] = json::object{{"event", e.name}, {"event_id", e.id}, {"properties", e.properties}};
        run.context.clear();
        AppendJson(run.context, ctx);
        timer = now;
      } else {
        continue;
      }
      run.seq = seq + 1;
      if (slot >= 0) {
        w.runs[static_cast<size_t>(slot)].run = std::move(run);  // expect_seq stays the stored one
        w.runs[static_cast<size_t>(slot)].timer = timer;
      } else {
        w.runs.push_back(RunWrite{std::move(run), seq, timer});
      }
    }
  }
  for (const Live& l : live) {
    if (l.journey.status != JourneyStatus::kActive) continue;
    const JourneyDef& def = *l.def;
    if (EventTrigger(def, e))
      RAPPORT_TRY(TryEnter(l.journey, def, e.contact_id, e.name, e.properties, now, w));
    for (const Trigger& t : def.triggers) {
      if (t.type == TriggerType::kInactivity) {
        bool activity = e.name == "contact.created";
        for (const std::string& name : t.activity) activity = activity || (name == e.name && !Machine(e));
        if (activity)
          w.timers.push_back(TimerWrite{e.workspace_id, TimerKey("inactive", l.journey.id, e.contact_id),
                                        "{}", e.occurred_at + std::chrono::hours(24) * t.days});
      } else if (t.type == TriggerType::kAnniversary && IsContactChange(e.name)) {
        auto contact = store_.contacts().Get(e.workspace_id, e.contact_id);
        if (!contact.ok()) {
          if (contact.error().code == ErrorCode::kNotFound) continue;
          return contact.error();
        }
        RAPPORT_TRY(ScheduleContactTimers(l.journey, def, *contact, w));
      }
    }
  }
  return {};
}

Status JourneyService::ScheduleContactTimers(const Journey& j, const JourneyDef& def, const Contact& c,
                                             JourneyWrite& w) {
  Timestamp now = clock_.Now();
  for (const Trigger& t : def.triggers) {
    if (t.type == TriggerType::kAnniversary) {
      std::string key = TimerKey("anniv", j.id, c.id);
      std::optional<Timestamp> due;
      if (auto value = AnniversaryValue(t, c))
        due = NextAnniversary(*value, now, c.timezone, t.hour, t.minute);
      w.timers.push_back(TimerWrite{c.workspace_id, key, "{}", due});
    } else if (t.type == TriggerType::kInactivity) {
      w.timers.push_back(TimerWrite{c.workspace_id, TimerKey("inactive", j.id, c.id), "{}",
                                    std::max(now, c.created_at) + std::chrono::hours(24) * t.days});
    }
  }
  return {};
}

Result<EnterResult> JourneyService::TryEnter(const Journey& j, const JourneyDef& def, ContactId contact,
                                             std::string_view event, const json::object& properties,
                                             Timestamp now, JourneyWrite& w) {
  EnterResult out;
  std::optional<std::string> key = RunKey(def, properties);
  if (!key) {
    out.reason = fmt::format("the entry event has no '{}'", def.entry.key);
    return out;
  }
  // A run of this journey already written in this pass (two triggers of one event).
  for (const RunWrite& r : w.runs)
    if (r.run.journey_id == j.id && r.run.contact_id == contact && r.run.run_key == *key &&
        !RunEnded(r.run.state)) {
      out.reason = "already in the journey";
      return out;
    }
  RAPPORT_ASSIGN_OR_RETURN(
      std::optional<JourneyRun> latest,
      store_.journeys().LatestRun(j.workspace_id, j.id, contact,
                                  def.entry.key.empty() ? std::nullopt : std::optional<std::string>(*key)));
  // The latest run as the pending write has it: its own update, or a run entered in this batch
  // (newer than any stored one).
  for (const RunWrite& r : w.runs) {
    if (r.run.id != 0) {
      if (latest && latest->id != 0 && r.run.id == latest->id) latest = r.run;
    } else if (r.run.journey_id == j.id && r.run.contact_id == contact &&
               (def.entry.key.empty() || r.run.run_key == *key)) {
      latest = r.run;
    }
  }
  if (latest) {
    if (auto refused = ReentryRefusal(def, *latest, now)) {
      out.reason = std::string(*refused);
      return out;
    }
  }
  RAPPORT_ASSIGN_OR_RETURN(std::optional<std::string> filtered,
                           EntryFilterRefusal(def, j.workspace_id, contact, *env_, false));
  if (filtered) {
    out.reason = std::move(*filtered);
    return out;
  }
  JourneyRun run = NewRun(def, j, contact, *key, event, properties, now);
  int index = static_cast<int>(w.runs.size());
  w.runs.push_back(RunWrite{run, 0, now});
  w.counts.push_back(StepCount{j.workspace_id, j.id, j.version, def.start, 1});
  json::object props{{"journey_id", j.id}, {"journey", j.name}, {"version", j.version}, {"trigger", event}};
  if (!key->empty()) props["key"] = *key;
  w.events.push_back(JourneyEvent{j.workspace_id, contact, "journey.entered", std::move(props), index});
  out.entered = true;
  return out;
}

// ---- the scheduler ---------------------------------------------------------------------------

Result<size_t> JourneyService::RunTimers() {
  constexpr int kMaxRounds = 50;
  size_t handled = 0;
  int rounds = 0;
  int batch = std::clamp(options_.claim_batch, 1, 1000);
  while (true) {
    Timestamp now = clock_.Now();
    RAPPORT_ASSIGN_OR_RETURN(
        std::vector<WorkItem> items,
        store_.work().Claim(kJourneyTimerQueue, batch, options_.owner, now, options_.lease));
    if (items.empty()) break;
    AdvanceBatch(items);
    handled += items.size();
    // Runs entered or woken by these items are due now: claim again until nothing is due (a chain
    // that is due again at once after kMaxStepsPerAdvance steps waits for the next pass).
    if (++rounds >= kMaxRounds) break;
  }
  return handled;
}

namespace {

struct Mark {
  size_t runs, timers, counts, events;
};
Mark MarkOf(const JourneyWrite& w) {
  return {w.runs.size(), w.timers.size(), w.counts.size(), w.events.size()};
}
bool Moved(const JourneyWrite& w, const Mark& m) {
  return w.runs.size() != m.runs || w.timers.size() != m.timers || w.events.size() != m.events;
}
void Rewind(JourneyWrite& w, const Mark& m) {
  w.runs.erase(w.runs.begin() + static_cast<std::ptrdiff_t>(m.runs), w.runs.end());
  w.timers.erase(w.timers.begin() + static_cast<std::ptrdiff_t>(m.timers), w.timers.end());
  w.counts.erase(w.counts.begin() + static_cast<std::ptrdiff_t>(m.counts), w.counts.end());
  w.events.erase(w.events.begin() + static_cast<std::ptrdiff_t>(m.events), w.events.end());
}

}  // namespace

// One claim batch: the first sends of its due runs queued together (batch_send.h), every item's
// runs advanced, then their writes (runs, timers, counters, timeline events) committed in one
// transaction. When that fails (a run moved by another node: kConflict, or the store), the items
// are taken again one by one, each with its own write: a step that runs again sends with the
// same idempotency key, so nothing is queued twice.
void JourneyService::AdvanceBatch(const std::vector<WorkItem>& items) {
  std::lock_guard lock(mu_);
  auto fail = [&](const WorkItem& item, const Error& e) {
    if (e.code == ErrorCode::kConflict) return;  // another worker has it
    // Not done: back in the queue after a pause (a store hiccup, a send service error).
    if (options_.on_error) options_.on_error(e);
    (void)store_.work().Retry(item.id, options_.owner, clock_.Now() + options_.error_retry);
  };
  JourneyCache journeys;
  SendReplies replies;
  PrefetchSends(items, journeys, replies);
  PrefetchedEnv prefetched(*env_, replies);
  journeys.env = &prefetched;
  JourneyWrite w;
  std::vector<const WorkItem*> wrote;
  for (const WorkItem& item : items) {
    Mark m = MarkOf(w);
    Status st = HandleItem(item, w, journeys);
    if (!st.ok()) {
      Rewind(w, m);
      fail(item, st.error());
    } else if (Moved(w, m)) {
      wrote.push_back(&item);
    }
  }
  if (wrote.empty()) return;
  MergeCounts(w);
  Status st = store_.journeys().Apply(w);
  if (st.ok()) return;
  if (st.error().code != ErrorCode::kConflict && options_.on_error) options_.on_error(st.error());
  for (const WorkItem* item : wrote) {
    JourneyWrite one;
    JourneyCache fresh;
    Status s = HandleItem(*item, one, fresh);
    if (s.ok() && !Empty(one)) s = store_.journeys().Apply(one);
    if (!s.ok()) fail(*item, s.error());
  }
}

void JourneyService::PrefetchSends(const std::vector<WorkItem>& items, Batch& batch, SendReplies& replies) {
  std::vector<RunId> ids;
  for (const WorkItem& item : items) {
    if (item.key.rfind("run:", 0) != 0) continue;
    try {
      ids.push_back(std::stoll(item.key.substr(4)));
    } catch (const std::exception&) {
    }
  }
  if (ids.empty()) return;
  auto got = store_.journeys().GetRuns(ids);
  if (!got.ok()) return;  // the real pass reads each run again and decides
  ProbeEnv probe(*env_);
  Timestamp now = clock_.Now();
  for (JourneyRun& read : *got) {
    JourneyRun run = read;
    batch.runs[run.id] = std::move(read);
    if (RunEnded(run.state)) continue;
    auto j = CachedJourney(run.workspace_id, run.journey_id, batch);
    if (!j.ok() || j->status != JourneyStatus::kActive) continue;
    auto def = Definition(run.workspace_id, run.journey_id, run.version);
    if (!def.ok()) continue;
    probe.Reset();
    (void)Advance(**def, run, now, probe);  // a copy: stops at its first send or effect
  }
  std::vector<SendAsk>& asks = probe.asks();
  if (asks.empty()) return;
  std::vector<Result<SendReply>> sent = env_->SendMany(asks);
  for (size_t i = 0; i < asks.size() && i < sent.size(); ++i)
    if (sent[i].ok()) replies.emplace(asks[i].idempotency_key, std::move(sent[i]).value());
  // A failed one is sent again by the real pass, which then sees the error itself.
}

Status JourneyService::HandleItem(const WorkItem& item, JourneyWrite& w, JourneyCache& journeys) {
  if (item.key.rfind("run:", 0) == 0) {
    RunId id = 0;
    try {
      id = std::stoll(item.key.substr(4));
    } catch (const std::exception&) {
    }
    return id > 0 ? HandleRunTimer(item, id, w, journeys) : store_.work().Complete(item.id, options_.owner);
  }
  return HandleEntryTimer(item, w, journeys);
}

Result<Journey> JourneyService::CachedJourney(WorkspaceId ws, JourneyId id, JourneyCache& journeys) {
  auto it = journeys.journeys.find({ws, id});
  if (it != journeys.journeys.end()) return it->second;
  RAPPORT_ASSIGN_OR_RETURN(Journey j, store_.journeys().Get(ws, id));
  j.definition.clear();  // the parsed version comes from Definition()
  journeys.journeys.emplace(std::make_pair(ws, id), j);
  return j;
}

Status JourneyService::HandleRunTimer(const WorkItem& item, RunId id, JourneyWrite& w,
                                      JourneyCache& journeys) {
  JourneyRun run;
  if (auto read = journeys.runs.find(id); read != journeys.runs.end()) {
    run = std::move(read->second);
    journeys.runs.erase(read);
  } else {
    auto got = store_.journeys().GetRun(id);
    if (!got.ok()) {
      if (got.error().code == ErrorCode::kNotFound) return store_.work().Complete(item.id, options_.owner);
      return got.error();
    }
    run = std::move(got).value();
  }
  if (RunEnded(run.state)) return store_.work().Complete(item.id, options_.owner);
  RAPPORT_ASSIGN_OR_RETURN(Journey j, CachedJourney(run.workspace_id, run.journey_id, journeys));
  Timestamp now = clock_.Now();
  if (j.status == JourneyStatus::kPaused || j.status == JourneyStatus::kDraft)
    return store_.work().Retry(item.id, options_.owner, now + options_.paused_recheck);
  int64_t seq = run.seq;
  if (j.status == JourneyStatus::kArchived) {
    run.state = RunState::kExited;
    run.reason = "journey archived";
    run.seq = seq + 1;
    w.events.push_back(JourneyEvent{run.workspace_id, run.contact_id, "journey.exited",
                                    json::object{{"journey_id", run.journey_id},
                                                 {"version", run.version},
                                                 {"run_id", run.id},
                                                 {"step", run.step},
                                                 {"reason", run.reason}},
                                    -1});
    w.runs.push_back(RunWrite{std::move(run), seq, std::nullopt});
    return {};
  }
  RAPPORT_ASSIGN_OR_RETURN(std::shared_ptr<const JourneyDef> def,
                           Definition(run.workspace_id, run.journey_id, run.version));
  RAPPORT_ASSIGN_OR_RETURN(AdvanceResult r, Advance(*def, run, now, journeys.env ? *journeys.env : *env_));
  run.seq = seq + 1;
  for (const std::string& step : r.entered)
    w.counts.push_back(StepCount{run.workspace_id, run.journey_id, run.version, step, 1});
  for (auto& [name, props] : r.events) {
    props["run_id"] = run.id;
    w.events.push_back(JourneyEvent{run.workspace_id, run.contact_id, name, std::move(props), -1});
  }
  w.runs.push_back(RunWrite{std::move(run), seq, r.timer});
  return {};
}

Status JourneyService::HandleEntryTimer(const WorkItem& item, JourneyWrite& w, JourneyCache& journeys) {
  std::string kind;
  JourneyId jid = 0;
  ContactId cid = 0;
  if (!SplitKey(item.key, kind, jid, cid)) return store_.work().Complete(item.id, options_.owner);
  auto j = CachedJourney(item.workspace_id, jid, journeys);
  if (!j.ok()) {
    if (j.error().code == ErrorCode::kNotFound) return store_.work().Complete(item.id, options_.owner);
    return j.error();
  }
  Timestamp now = clock_.Now();
  if (j->status == JourneyStatus::kArchived) return store_.work().Complete(item.id, options_.owner);
  if (j->status != JourneyStatus::kActive)
    return store_.work().Retry(item.id, options_.owner, now + options_.paused_recheck);
  RAPPORT_ASSIGN_OR_RETURN(std::shared_ptr<const JourneyDef> def,
                           Definition(j->workspace_id, j->id, j->version));
  auto contact = store_.contacts().Get(j->workspace_id, cid);
  if (!contact.ok()) {
    if (contact.error().code == ErrorCode::kNotFound) return store_.work().Complete(item.id, options_.owner);
    return contact.error();
  }
  if (contact->status == ContactStatus::kErased) return store_.work().Complete(item.id, options_.owner);
  json::object props;
  if (kind == "anniv") {
    for (const Trigger& t : def->triggers)
      if (t.type == TriggerType::kAnniversary) {
        props["attribute"] = t.attribute;
        if (auto v = AnniversaryValue(t, *contact)) props["date"] = *v;
      }
    RAPPORT_TRY(TryEnter(*j, *def, cid, "anniversary", props, now, w));
    // The next year's (computed after now: this one has passed).
    JourneyWrite next;
    RAPPORT_TRY(ScheduleContactTimers(*j, *def, *contact, next));
    for (TimerWrite& t : next.timers)
      if (t.key == item.key) w.timers.push_back(std::move(t));
  } else if (kind == "inactive") {
    for (const Trigger& t : def->triggers)
      if (t.type == TriggerType::kInactivity) props["days"] = t.days;
    RAPPORT_TRY(TryEnter(*j, *def, cid, "inactivity", props, now, w));
    w.timers.push_back(TimerWrite{j->workspace_id, item.key, "", std::nullopt});
  } else {
    return store_.work().Complete(item.id, options_.owner);
  }
  return {};
}

// ---- operations ------------------------------------------------------------------------------

ExpressionCheck JourneyService::ExpressionChecker(WorkspaceId ws) {
  if (!ports_.segments) return nullptr;  // not checked: the run answers kUnavailable, as for segments
  return [this, ws](const std::string& text) { return ports_.segments->CheckExpression(ws, text); };
}

Result<JourneyDef> JourneyService::Check(WorkspaceId ws, const json::value& document) {
  TemplateLookup templates = [this, ws](std::string_view name) {
    return store_.templates().GetByName(ws, name).ok();
  };
  return ParseJourney(document, registry_, templates, ExpressionChecker(ws));
}

namespace {

Result<std::string> NameOf(const json::value& document) {
  const json::value* n = document.is_object() ? document.get_object().if_contains("name") : nullptr;
  if (!n || !n->is_string() || n->get_string().empty())
    return Error::Invalid("name", "a journey needs a name");
  return std::string(n->get_string());
}

}  // namespace

Result<Journey> JourneyService::Create(WorkspaceId ws, const json::value& document) {
  RAPPORT_TRY(Check(ws, document));
  Journey j;
  j.workspace_id = ws;
  RAPPORT_ASSIGN_OR_RETURN(j.name, NameOf(document));
  j.definition = WriteJson(document);
  return store_.journeys().Create(j);
}

Result<Journey> JourneyService::Update(WorkspaceId ws, JourneyId id, const json::value& document) {
  RAPPORT_TRY(Check(ws, document));
  RAPPORT_ASSIGN_OR_RETURN(Journey current, store_.journeys().Get(ws, id));
  RAPPORT_ASSIGN_OR_RETURN(std::string name, NameOf(document));
  if (name != current.name)
    return Error::Invalid("name", "a journey's name does not change with a new version");
  if (current.status == JourneyStatus::kArchived) return Error::Conflict("the journey is archived", "status");
  RAPPORT_ASSIGN_OR_RETURN(Journey j, store_.journeys().AddVersion(ws, id, WriteJson(document)));
  Invalidate();
  Wake();
  return j;
}

Result<Journey> JourneyService::SetStatus(WorkspaceId ws, JourneyId id, JourneyStatus status) {
  RAPPORT_ASSIGN_OR_RETURN(Journey j, store_.journeys().SetStatus(ws, id, status));
  Invalidate();
  Wake();
  return j;
}

Result<Journey> JourneyService::Activate(WorkspaceId ws, JourneyId id) {
  RAPPORT_ASSIGN_OR_RETURN(Journey current, store_.journeys().Get(ws, id));
  if (current.status == JourneyStatus::kArchived) return Error::Conflict("the journey is archived", "status");
  if (current.status == JourneyStatus::kActive) return current;
  // Its segment expressions again: an attribute or a saved segment they name may have gone since
  // the version was saved.
  if (ExpressionCheck expressions = ExpressionChecker(ws)) {
    RAPPORT_ASSIGN_OR_RETURN(std::string text, store_.journeys().GetVersion(ws, id, current.version));
    RAPPORT_TRY(ParseJourney(std::string_view(text), registry_, nullptr, expressions));
  }
  RAPPORT_ASSIGN_OR_RETURN(Journey j, SetStatus(ws, id, JourneyStatus::kActive));
  RAPPORT_TRY(BackfillTimers(j));
  return j;
}

Result<Journey> JourneyService::Pause(WorkspaceId ws, JourneyId id) {
  RAPPORT_ASSIGN_OR_RETURN(Journey current, store_.journeys().Get(ws, id));
  if (current.status != JourneyStatus::kActive)
    return Error::Conflict(
        fmt::format("only an active journey pauses; this one is {}", JourneyStatusName(current.status)),
        "status");
  return SetStatus(ws, id, JourneyStatus::kPaused);
}

Result<Journey> JourneyService::Resume(WorkspaceId ws, JourneyId id) {
  RAPPORT_ASSIGN_OR_RETURN(Journey current, store_.journeys().Get(ws, id));
  if (current.status != JourneyStatus::kPaused)
    return Error::Conflict(
        fmt::format("only a paused journey resumes; this one is {}", JourneyStatusName(current.status)),
        "status");
  return SetStatus(ws, id, JourneyStatus::kActive);
}

Result<Journey> JourneyService::Archive(WorkspaceId ws, JourneyId id) {
  RAPPORT_TRY(store_.journeys().Get(ws, id));
  return SetStatus(ws, id, JourneyStatus::kArchived);
}

// Anniversaries and inactivity of the contacts that exist when the journey is activated.
Status JourneyService::BackfillTimers(const Journey& j) {
  RAPPORT_ASSIGN_OR_RETURN(std::shared_ptr<const JourneyDef> def,
                           Definition(j.workspace_id, j.id, j.version));
  bool needed = false;
  for (const Trigger& t : def->triggers)
    needed = needed || t.type == TriggerType::kAnniversary || t.type == TriggerType::kInactivity;
  if (!needed) return {};
  JourneyWrite w;
  Status failed;
  RAPPORT_TRY(store_.contacts().ForEach(j.workspace_id, [&](const Contact& c) {
    failed = ScheduleContactTimers(j, *def, c, w);
    if (!failed.ok()) return false;
    if (w.timers.size() >= 1000) {
      std::erase_if(w.timers, [](const TimerWrite& t) { return !t.due; });
      failed = store_.journeys().Apply(w);
      w = JourneyWrite{};
      if (!failed.ok()) return false;
    }
    return true;
  }));
  RAPPORT_TRY(failed);
  std::erase_if(w.timers, [](const TimerWrite& t) { return !t.due; });
  if (!w.timers.empty()) RAPPORT_TRY(store_.journeys().Apply(w));
  Wake();
  return {};
}

Result<EnterResult> JourneyService::Enter(WorkspaceId ws, JourneyId id, ContactId contact,
                                          const json::object& properties) {
  RAPPORT_ASSIGN_OR_RETURN(Journey j, store_.journeys().Get(ws, id));
  if (j.status != JourneyStatus::kActive)
    return Error::Conflict(fmt::format("the journey is {}, not active", JourneyStatusName(j.status)),
                           "status");
  RAPPORT_ASSIGN_OR_RETURN(std::shared_ptr<const JourneyDef> def, Definition(ws, id, j.version));
  bool api = false;
  for (const Trigger& t : def->triggers) api = api || t.type == TriggerType::kApi;
  if (!api) return Error::Invalid("trigger", "this journey has no \"api\" trigger");
  RAPPORT_TRY(store_.contacts().Get(ws, contact));
  EnterResult r;
  {
    std::lock_guard lock(mu_);
    JourneyWrite w;
    RAPPORT_ASSIGN_OR_RETURN(r, TryEnter(j, *def, contact, "api", properties, clock_.Now(), w));
    if (r.entered) {
      RAPPORT_TRY(store_.journeys().Apply(w));
      r.run_id = w.runs.front().run.id;
    }
  }
  Wake();
  return r;
}

Result<std::vector<SimPath>> JourneyService::Simulate(WorkspaceId ws, JourneyId id,
                                                      const SimulationRequest& request) {
  if (!ports_.mailer) return Error::Unavailable("no mailer: subjects cannot be rendered in this process");
  RAPPORT_ASSIGN_OR_RETURN(Journey j, store_.journeys().Get(ws, id));
  if (request.version) j.version = *request.version;
  RAPPORT_ASSIGN_OR_RETURN(std::shared_ptr<const JourneyDef> def, Definition(ws, id, j.version));
  std::vector<SimEvent> events = request.events;
  for (ContactId c : request.contacts) {
    RAPPORT_TRY(store_.contacts().Get(ws, c));
    EventQuery q;
    q.limit = 1000;
    RAPPORT_ASSIGN_OR_RETURN(Page<Event> page, store_.events().ListForContact(ws, c, q));
    for (const Event& e : page.items)
      if (e.name.rfind("journey.", 0) != 0)
        events.push_back(SimEvent{c, e.name, e.properties, e.occurred_at});
  }
  return automation::Simulate(j, *def, std::move(events), *env_, *ports_.mailer, request.options);
}

}  // namespace rapport::automation
