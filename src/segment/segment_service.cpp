#include "segment/segment_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <optional>
#include <set>

#include "core/thread_name.h"
#include "segment/checker.h"
#include "segment/parser.h"

namespace rapport::segment {

namespace {
constexpr int kBatch = 10000;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// The expression compiled against the workspace's schema, or kInvalid (field "expression") with
// the parser's or checker's message (line, column and the "did you mean" hint).
Result<ExprPtr> CompileExpression(const std::string& text, const Schema& schema) {
  auto compiled = Compile(text, schema);
  if (auto* err = std::get_if<ParseError>(&compiled)) return Error::Invalid("expression", err->ToString());
  return std::get<ExprPtr>(std::move(compiled));
}
}  // namespace

SegmentService::SegmentService(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

SegmentService::~SegmentService() { Stop(); }

Result<std::string> SegmentService::TimezoneOf(WorkspaceId ws) {
  RAPPORT_ASSIGN_OR_RETURN(Workspace w, store_.workspaces().Get(ws));
  return w.default_timezone.empty() ? std::string("UTC") : w.default_timezone;
}

Result<Schema> SegmentService::SchemaFor(WorkspaceId ws) {
  Schema s = engine_.index().SchemaFor(ws);
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Topic> topics, store_.topics().List(ws));
  for (const Topic& t : topics) s.topics.insert(t.key);
  RAPPORT_ASSIGN_OR_RETURN(std::vector<SavedSegment> saved, store_.segments().List(ws));
  for (const SavedSegment& x : saved) s.segments.insert(x.name);
  return s;
}

Status SegmentService::ApplyLocked(const Event& e, int64_t now) {
  if (e.name == "contact.merged") {
    // The store moved the merged contact's events and subscriptions: take both profiles as the
    // store has them now.
    engine_.index().Apply(e);
    const json::value* from = e.properties.if_contains("merged_contact_id");
    if (from && from->is_int64()) {
      auto into = store_.contacts().Get(e.workspace_id, e.contact_id);
      if (into.ok()) engine_.index().SetContact(*into);
      auto gone = store_.contacts().Get(e.workspace_id, from->get_int64());
      if (gone.ok()) engine_.index().SetContact(*gone);
      engine_.index().MoveEvents(from->get_int64(), e.contact_id);
      auto subs = store_.topics().ListSubscriptions(e.workspace_id, e.contact_id);
      if (subs.ok()) {
        std::vector<std::pair<std::string, bool>> list;
        for (const Subscription& s : *subs)
          list.emplace_back(s.topic_key, s.status == SubscriptionStatus::kSubscribed);
        engine_.index().SetSubscriptions(e.contact_id, list);
      }
      engine_.Refresh(from->get_int64(), now);
    }
    engine_.Refresh(e.contact_id, now);
    return {};
  }
  if (engine_.Apply(e, now)) return {};
  // A contact the log never created here (e.g. one the log lost to an erasure race): fetch it.
  auto c = store_.contacts().Get(e.workspace_id, e.contact_id);
  if (!c.ok()) {
    if (c.error().code == ErrorCode::kNotFound) return {};
    return c.error();
  }
  engine_.index().SetContact(*c);
  engine_.Apply(e, now);
  return {};
}

Status SegmentService::Start(bool run_thread, bool emit) {
  emit_ = emit;
  {
    std::unique_lock lock(mu_);
    int64_t now = ToMicros(clock_.Now());
    engine_.set_loading(true);
    RAPPORT_ASSIGN_OR_RETURN(std::vector<SavedSegment> saved, store_.segments().ListAll());
    for (const SavedSegment& s : saved) {
      Schema schema;  // names resolve against the empty index: no typo check at load
      RAPPORT_ASSIGN_OR_RETURN(std::vector<SavedSegment> same_ws, store_.segments().List(s.workspace_id));
      for (const SavedSegment& x : same_ws) schema.segments.insert(x.name);
      RAPPORT_ASSIGN_OR_RETURN(std::vector<Topic> topics, store_.topics().List(s.workspace_id));
      for (const Topic& t : topics) schema.topics.insert(t.key);
      RAPPORT_ASSIGN_OR_RETURN(std::string tz, TimezoneOf(s.workspace_id));
      auto r = engine_.Upsert(s, schema, now, tz);
      if (!r.ok()) continue;  // a saved segment that no longer compiles stays out of the engine
    }
    while (true) {
      if (stopping()) return Error::Unavailable("the segment service is stopping");
      RAPPORT_ASSIGN_OR_RETURN(std::vector<Event> batch,
                               store_.feed().Read(engine_.index().position(), kBatch));
      if (batch.empty()) break;
      for (const Event& e : batch) RAPPORT_TRY(ApplyLocked(e, now));
      engine_.index().set_position(batch.back().position);
    }
    engine_.set_loading(false);
    now = ToMicros(clock_.Now());
    engine_.RecomputeAll(now);
  }
  // What the log does not say yet is appended by the consumer thread (batch by batch, so that a
  // large backlog neither delays the start nor a stop), or here when there is no thread.
  if (!run_thread) RAPPORT_TRY(EmitAll());
  if (run_thread) {
    running_ = true;
    consumer_ = std::thread([this] {
      NameThisThread("segments");
      Run();
    });
    watcher_ = std::thread([this] {
      NameThisThread("segments-wake");
      uint64_t seen = store_.feed().notifier().Generation();
      while (running_) {
        uint64_t now = store_.feed().notifier().WaitPast(seen, std::chrono::milliseconds(200));
        if (now != seen) {
          seen = now;
          alarm_.Ring();
        }
      }
    });
  }
  return {};
}

void SegmentService::Stop() {
  stopping_ = true;
  if (!running_.exchange(false)) return;
  alarm_.Ring();
  store_.feed().notifier().Notify();
  if (consumer_.joinable()) consumer_.join();
  if (watcher_.joinable()) watcher_.join();
}

void SegmentService::Run() {
  while (running_) {
    int64_t next = kNever;
    {
      std::unique_lock lock(mu_);
      (void)ApplyNewLocked();
      next = engine_.NextDeadline();
    }
    // One batch of membership changes at a time, between which new events are applied.
    Result<size_t> emitted = EmitBatch(kEmitBatch);
    if (emitted.ok() && *emitted == kEmitBatch) continue;
    // Events from other processes are not heard by the notifier: look again within a second.
    Timestamp wake = clock_.Now() + std::chrono::seconds(1);
    if (next != kNever && FromMicros(next) < wake) wake = FromMicros(next);
    clock_.SleepUntil(wake, alarm_);
  }
}

Result<size_t> SegmentService::Step() {
  size_t applied = 0;
  {
    std::unique_lock lock(mu_);
    RAPPORT_ASSIGN_OR_RETURN(applied, ApplyNewLocked());
  }
  RAPPORT_TRY(EmitAll());
  return applied;
}

Result<size_t> SegmentService::ApplyNewLocked() {
  size_t applied = 0;
  while (true) {
    RAPPORT_ASSIGN_OR_RETURN(std::vector<Event> batch,
                             store_.feed().Read(engine_.index().position(), kBatch));
    if (batch.empty()) break;
    int64_t now = ToMicros(clock_.Now());
    engine_.Advance(now);  // deadlines that passed before these events
    for (const Event& e : batch) RAPPORT_TRY(ApplyLocked(e, now));
    engine_.index().set_position(batch.back().position);
    // Every membership these events change is current from here: their lag ends now.
    const int64_t done = ToMicros(clock_.Now());
    for (const Event& e : batch) lag_.Observe(done - ToMicros(e.received_at));
    applied += batch.size();
    if (batch.size() < static_cast<size_t>(kBatch)) break;
  }
  engine_.Advance(ToMicros(clock_.Now()));
  return applied;
}

Result<size_t> SegmentService::EmitBatch(size_t limit) {
  if (!emit_) return size_t{0};
  std::lock_guard emitting(emit_mu_);
  std::vector<MembershipChange> changes;
  {
    std::unique_lock lock(mu_);
    changes = engine_.TakeChanges(limit);
  }
  if (changes.empty()) return size_t{0};
  std::map<WorkspaceId, std::vector<NewEvent>> by_ws;
  for (const MembershipChange& c : changes) {
    NewEvent e;
    e.contact.id = c.contact_id;
    e.contact.create_contact = false;
    e.name = std::string(c.entered ? kSegmentEntered : kSegmentExited);
    e.properties = json::object{{"segment_id", c.segment_id}, {"segment", c.segment_name}};
    by_ws[c.workspace_id].push_back(std::move(e));
  }
  std::set<WorkspaceId> appended;
  for (auto& [ws, events] : by_ws) {
    auto r = store_.events().Append(ws, events, clock_.Now());
    if (!r.ok()) {
      // What was not appended is taken again by the next batch.
      std::vector<MembershipChange> back;
      for (const MembershipChange& c : changes)
        if (!appended.count(c.workspace_id)) back.push_back(c);
      std::unique_lock lock(mu_);
      engine_.Requeue(back);
      return r.error();
    }
    appended.insert(ws);
  }
  return changes.size();
}

Status SegmentService::EmitAll() {
  while (!stopping()) {
    RAPPORT_ASSIGN_OR_RETURN(size_t n, EmitBatch(kEmitBatch));
    if (n == 0) return {};
  }
  return {};
}

size_t SegmentService::PendingChanges() {
  std::shared_lock lock(mu_);
  return engine_.PendingChanges();
}

Status SegmentService::CatchUp() {
  RAPPORT_ASSIGN_OR_RETURN(int64_t head, store_.feed().Head());
  {
    std::shared_lock lock(mu_);
    if (engine_.index().position() >= head) return {};
  }
  std::unique_lock lock(mu_);
  RAPPORT_TRY(ApplyNewLocked());
  return {};
}

Status SegmentService::Backfill(const std::vector<int>& streams) {
  if (streams.empty()) return {};
  for (int s : streams) engine_.index().MarkFilling(s);
  int64_t at = 0;
  int64_t end = engine_.index().position();
  while (at < end) {
    if (stopping()) return Error::Unavailable("the segment service is stopping");
    RAPPORT_ASSIGN_OR_RETURN(std::vector<Event> batch, store_.feed().Read(at, kBatch));
    if (batch.empty()) break;
    for (const Event& e : batch) {
      if (e.position > end) break;
      for (int s : streams) engine_.index().ApplyToStream(s, e);
    }
    at = batch.back().position;
  }
  for (int s : streams) engine_.index().MarkFilled(s);
  return {};
}

Status SegmentService::CheckCycle(WorkspaceId ws, const SavedSegment& s) {
  RAPPORT_ASSIGN_OR_RETURN(std::vector<SavedSegment> saved, store_.segments().List(ws));
  std::map<std::string, std::vector<std::string>> refs;
  for (const SavedSegment& x : saved) {
    if (x.id == s.id) continue;
    auto parsed = Parse(x.expression);
    if (auto* e = std::get_if<ExprPtr>(&parsed)) refs[x.name] = SegmentRefs(**e);
  }
  auto parsed = Parse(s.expression);
  if (auto* e = std::get_if<ExprPtr>(&parsed)) refs[s.name] = SegmentRefs(**e);
  // Depth-first from the new segment: reaching it again is a cycle.
  std::vector<std::string> path;
  std::function<bool(const std::string&)> visit = [&](const std::string& n) {
    if (std::find(path.begin(), path.end(), n) != path.end()) return n == s.name;
    path.push_back(n);
    for (const std::string& m : refs[n])
      if (visit(m)) return true;
    path.pop_back();
    return false;
  };
  if (visit(s.name)) {
    std::string chain;
    for (const std::string& p : path) chain += p + " -> ";
    return Error::Invalid("expression", "segments may not refer to each other in a cycle: " + chain + s.name);
  }
  return {};
}

Result<SavedSegment> SegmentService::Create(WorkspaceId ws, SavedSegment s) {
  RAPPORT_TRY(CatchUp());
  s.workspace_id = ws;
  std::unique_lock lock(mu_);
  RAPPORT_ASSIGN_OR_RETURN(Schema schema, SchemaFor(ws));
  RAPPORT_ASSIGN_OR_RETURN(ExprPtr compiled, CompileExpression(s.expression, schema));
  RAPPORT_TRY(CheckCycle(ws, s));
  // The streams it reads are filled from the log before anything is saved: a fill that fails
  // (a store error, a stop) saves nothing.
  RAPPORT_TRY(Backfill(BindStreams(*compiled, engine_.index())));
  RAPPORT_ASSIGN_OR_RETURN(SavedSegment created, store_.segments().Create(s));
  RAPPORT_ASSIGN_OR_RETURN(std::string tz, TimezoneOf(ws));
  int64_t now = ToMicros(clock_.Now());
  schema.segments.insert(created.name);
  // Its streams were filled above, so Upsert finds none new and computes the members itself.
  RAPPORT_TRY(engine_.Upsert(created, schema, now, tz));
  lock.unlock();
  alarm_.Ring();  // the consumer appends the members' segment_entered, batch by batch
  return created;
}

Result<SavedSegment> SegmentService::Update(WorkspaceId ws, SavedSegment s) {
  RAPPORT_TRY(CatchUp());
  s.workspace_id = ws;
  std::unique_lock lock(mu_);
  RAPPORT_ASSIGN_OR_RETURN(SavedSegment old, store_.segments().Get(ws, s.id));
  // A segment another one names keeps its name: `in segment <old>` would quietly match no one
  // (and stop compiling at the next start).
  if (s.name != old.name) RAPPORT_TRY(CheckNoReferrer(ws, old, "name"));
  RAPPORT_ASSIGN_OR_RETURN(Schema schema, SchemaFor(ws));
  schema.segments.erase(old.name);
  schema.segments.insert(s.name);
  RAPPORT_ASSIGN_OR_RETURN(ExprPtr compiled, CompileExpression(s.expression, schema));
  RAPPORT_TRY(CheckCycle(ws, s));
  RAPPORT_TRY(Backfill(BindStreams(*compiled, engine_.index())));  // as in Create
  RAPPORT_ASSIGN_OR_RETURN(SavedSegment updated, store_.segments().Update(s));
  RAPPORT_ASSIGN_OR_RETURN(std::string tz, TimezoneOf(ws));
  int64_t now = ToMicros(clock_.Now());
  // Its streams were filled above, so Upsert finds none new and computes the members itself.
  RAPPORT_TRY(engine_.Upsert(updated, schema, now, tz));
  lock.unlock();
  alarm_.Ring();
  return updated;
}

Status SegmentService::CheckNoReferrer(WorkspaceId ws, const SavedSegment& old, std::string_view field) {
  RAPPORT_ASSIGN_OR_RETURN(std::vector<SavedSegment> saved, store_.segments().List(ws));
  for (const SavedSegment& x : saved) {
    if (x.id == old.id) continue;
    auto parsed = Parse(x.expression);
    if (auto* e = std::get_if<ExprPtr>(&parsed)) {
      auto refs = SegmentRefs(**e);
      if (std::find(refs.begin(), refs.end(), old.name) != refs.end())
        return Error::Conflict(fmt::format("segment '{}' refers to this one: change it first", x.name),
                               std::string(field));
    }
  }
  return {};
}

Status SegmentService::Delete(WorkspaceId ws, SegmentId id) {
  std::unique_lock lock(mu_);
  RAPPORT_ASSIGN_OR_RETURN(SavedSegment old, store_.segments().Get(ws, id));
  RAPPORT_TRY(CheckNoReferrer(ws, old, "id"));
  RAPPORT_TRY(store_.segments().Delete(ws, id));
  engine_.Remove(id);
  return {};
}

Result<int64_t> SegmentService::Count(WorkspaceId ws, SegmentId id) {
  RAPPORT_TRY(CatchUp());
  RAPPORT_TRY(store_.segments().Get(ws, id));
  std::shared_lock lock(mu_);
  const Bitmap* m = engine_.Members(id);
  if (!m) return Error::Invalid("id", "this segment's expression no longer compiles");
  return static_cast<int64_t>(m->Cardinality());
}

Result<MembersPage> SegmentService::Members(WorkspaceId ws, SegmentId id, int limit,
                                            const std::string& cursor) {
  if (limit < 1 || limit > 1000) return Error::Invalid("limit", "limit must be 1 to 1000");
  uint32_t from = 0;
  if (!cursor.empty()) {
    char* end = nullptr;
    unsigned long v = std::strtoul(cursor.c_str(), &end, 10);
    if (end != cursor.c_str() + cursor.size() || v > std::numeric_limits<uint32_t>::max())
      return Error::Invalid("cursor", "not a cursor this API returned");
    from = static_cast<uint32_t>(v);
  }
  RAPPORT_TRY(CatchUp());
  RAPPORT_TRY(store_.segments().Get(ws, id));
  std::shared_lock lock(mu_);
  const Bitmap* m = engine_.Members(id);
  if (!m) return Error::Invalid("id", "this segment's expression no longer compiles");
  MembersPage page;
  std::vector<uint32_t> rows = m->Slice(from, static_cast<size_t>(limit) + 1);
  for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(limit); ++i)
    page.items.push_back({engine_.index().IdOf(rows[i]), std::string(engine_.index().Email(rows[i]))});
  if (rows.size() > static_cast<size_t>(limit)) page.next_cursor = std::to_string(rows.back());
  return page;
}

Result<PreviewResult> SegmentService::Preview(WorkspaceId ws, const std::string& expression, size_t sample) {
  RAPPORT_TRY(CatchUp());
  std::unique_lock lock(mu_);
  RAPPORT_ASSIGN_OR_RETURN(Schema schema, SchemaFor(ws));
  RAPPORT_ASSIGN_OR_RETURN(ExprPtr e, CompileExpression(expression, schema));
  std::vector<int> fresh = BindStreams(*e, engine_.index());
  RAPPORT_TRY(Backfill(fresh));
  auto start = std::chrono::steady_clock::now();
  RAPPORT_ASSIGN_OR_RETURN(std::string tz, TimezoneOf(ws));
  EvalContext ctx = engine_.Context(ws, ToMicros(clock_.Now()));
  ctx.default_timezone = tz;
  Bitmap members = ParallelScan(engine_.index(), ctx, *e, engine_.index().Workspace(ws), ScanThreads());
  PreviewResult out;
  out.micros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  out.count = static_cast<int64_t>(members.Cardinality());
  for (uint32_t r : members.Slice(0, sample))
    out.sample.push_back({engine_.index().IdOf(r), std::string(engine_.index().Email(r))});
  out.canonical = Format(*e);
  return out;
}

Result<std::vector<SavedSegment>> SegmentService::ContactSegments(WorkspaceId ws, ContactId contact) {
  RAPPORT_TRY(CatchUp());
  RAPPORT_TRY(store_.contacts().Get(ws, contact));
  std::vector<SegmentId> ids;
  {
    std::shared_lock lock(mu_);
    ids = engine_.SegmentsOf(ws, contact);
  }
  std::vector<SavedSegment> out;
  for (SegmentId id : ids) {
    auto s = store_.segments().Get(ws, id);
    if (s.ok()) out.push_back(std::move(*s));
  }
  return out;
}

Result<Explanation> SegmentService::Explain(WorkspaceId ws, ContactId contact, SegmentId id) {
  RAPPORT_TRY(CatchUp());
  RAPPORT_TRY(store_.contacts().Get(ws, contact));
  RAPPORT_TRY(store_.segments().Get(ws, id));
  RAPPORT_ASSIGN_OR_RETURN(std::string tz, TimezoneOf(ws));
  std::shared_lock lock(mu_);
  const Expr* e = engine_.Expression(id);
  if (!e) return Error::Invalid("id", "this segment's expression no longer compiles");
  auto r = engine_.index().RowOf(contact);
  if (!r) return Error::NotFound("the index has not seen this contact yet");
  EvalContext ctx = engine_.Context(ws, ToMicros(clock_.Now()));
  ctx.default_timezone = tz;
  Evaluator ev(engine_.index(), ctx);
  Explanation out;
  out.steps = ev.Explain(*e, *r);
  out.member = engine_.Members(id)->Contains(*r);
  return out;
}

const Expr* SegmentService::CachedExpressionLocked(WorkspaceId ws, const std::string& expression) const {
  auto w = expressions_.find(ws);
  if (w == expressions_.end()) return nullptr;
  auto it = w->second.find(expression);
  return it == w->second.end() ? nullptr : it->second.get();
}

bool SegmentService::StreamsFilledLocked(const Expr& e) const {
  if (e.kind == Expr::Kind::kBehavior &&
      (e.behavior.stream < 0 || !engine_.index().stream(e.behavior.stream).filled))
    return false;
  for (const ExprPtr& c : e.children)
    if (!StreamsFilledLocked(*c)) return false;
  return true;
}

bool SegmentService::MatchesRowLocked(WorkspaceId ws, Row r, const Expr& e, const std::string& timezone) {
  if (!engine_.index().Workspace(ws).Contains(r)) return false;  // erased, or another workspace's
  EvalContext ctx = engine_.Context(ws, ToMicros(clock_.Now()));
  ctx.default_timezone = timezone;
  Evaluator ev(engine_.index(), ctx);
  return ev.Matches(e, r);
}

Result<bool> SegmentService::Matches(WorkspaceId ws, ContactId contact, const std::string& expression) {
  RAPPORT_TRY(CatchUp());
  RAPPORT_ASSIGN_OR_RETURN(std::string tz, TimezoneOf(ws));
  bool known = false;
  {
    // The hot path: compiled before, its streams filled, the contact known.
    std::shared_lock lock(mu_);
    std::optional<Row> r = engine_.index().RowOf(contact);
    known = r.has_value();
    const Expr* e = CachedExpressionLocked(ws, expression);
    if (r && e && StreamsFilledLocked(*e)) return MatchesRowLocked(ws, *r, *e, tz);
  }
  // A contact the log has not shown the index (CatchUp read up to the head): fetched from the
  // store as ApplyLocked does; one the store does not have is kNotFound.
  std::optional<Contact> fill_in;
  if (!known) {
    RAPPORT_ASSIGN_OR_RETURN(Contact c, store_.contacts().Get(ws, contact));
    fill_in = std::move(c);
  }
  std::unique_lock lock(mu_);
  if (fill_in && !engine_.index().RowOf(contact)) engine_.index().SetContact(*fill_in);
  auto& by_text = expressions_[ws];
  auto it = by_text.find(expression);
  if (it == by_text.end()) {
    RAPPORT_ASSIGN_OR_RETURN(Schema schema, SchemaFor(ws));
    RAPPORT_ASSIGN_OR_RETURN(ExprPtr compiled, CompileExpression(expression, schema));
    if (expressions_size_ >= kExpressionCache) {  // bounded: start again rather than grow
      for (auto& [w, texts] : expressions_) texts.clear();
      expressions_size_ = 0;
    }
    it = by_text.emplace(expression, std::move(compiled)).first;
    ++expressions_size_;
  }
  // Binds the streams it reads (again: one whose fill failed is handed out anew) and fills the
  // new ones from the log, as Preview does.
  Expr& e = *it->second;
  RAPPORT_TRY(Backfill(BindStreams(e, engine_.index())));
  std::optional<Row> r = engine_.index().RowOf(contact);
  if (!r) return false;
  return MatchesRowLocked(ws, *r, e, tz);
}

Status SegmentService::CheckExpression(WorkspaceId ws, const std::string& expression) {
  RAPPORT_TRY(CatchUp());
  std::shared_lock lock(mu_);
  RAPPORT_ASSIGN_OR_RETURN(Schema schema, SchemaFor(ws));
  RAPPORT_TRY(CompileExpression(expression, schema));
  return {};
}

IndexStats SegmentService::Stats() {
  std::shared_lock lock(mu_);
  return engine_.index().Stats();
}

Status SegmentService::ForEachEventTotals(WorkspaceId ws, const std::string& event,
                                          const std::string& property, int64_t from_us, int64_t to_us,
                                          const std::function<void(ContactId, int64_t, double)>& fn) {
  RAPPORT_TRY(CatchUp());
  int stream = -1;
  {
    std::unique_lock lock(mu_);
    auto [id, created] = engine_.index().EnsureStream(StreamSpec{event, {}, property});
    if (created) RAPPORT_TRY(Backfill({id}));
    stream = id;
  }
  std::shared_lock lock(mu_);
  const ProfileIndex& index = engine_.index();
  const EventStream& s = index.stream(stream);
  const bool with_values = !property.empty();
  index.Workspace(ws).ForEach([&](uint32_t r) {
    if (index.CreatedAt(r) >= to_us) return;
    int64_t count = 0;
    double sum = 0;
    if (const EventStream::Entries* entries = s.For(r)) {
      std::span<const int64_t> times = entries->times();
      auto first = std::lower_bound(times.begin(), times.end(), from_us);
      auto last = std::lower_bound(first, times.end(), to_us);
      count = last - first;
      if (with_values)
        for (auto it = first; it != last; ++it) {
          double v = entries->value(static_cast<size_t>(it - times.begin()));
          if (std::isfinite(v)) sum += v;
        }
    }
    fn(index.IdOf(r), count, sum);
  });
  return {};
}

}  // namespace rapport::segment
