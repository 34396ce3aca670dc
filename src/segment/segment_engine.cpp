#include "segment/segment_engine.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "segment/checker.h"

namespace rapport::segment {

namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

void Collect(const Expr& e, std::set<std::string>& events, bool& profile, std::vector<SegmentId>*) {
  switch (e.kind) {
    case Expr::Kind::kBehavior:
      events.insert(e.behavior.event);
      // `last X exactly N days ago` counts days in the contact's timezone: a profile change moves them.
      if (e.behavior.time.kind == Condition::Kind::kDaysAgo) profile = true;
      break;
    case Expr::Kind::kField:
    case Expr::Kind::kTopic: profile = true; break;
    default: break;
  }
  for (const auto& c : e.children) Collect(*c, events, profile, nullptr);
}

bool IsProfileEvent(std::string_view n) {
  return n.rfind("contact.", 0) == 0 || n.rfind("topic.", 0) == 0 || n == "lifecycle_changed";
}

bool TouchesEverySegment(std::string_view n) {
  return n == "contact.created" || n == "contact.imported" || n == "contact.erased" || n == "contact.merged";
}

}  // namespace

bool IsTimed(const Expr& e) {
  if (e.kind == Expr::Kind::kBehavior) return true;  // windows, and events stamped in the future
  if (e.kind == Expr::Kind::kField) {
    switch (e.condition.kind) {
      case Condition::Kind::kWithinLast:
      case Condition::Kind::kWithinNext:
      case Condition::Kind::kMoreThanAgo:
      case Condition::Kind::kAnniversary:
      case Condition::Kind::kDaysAgo:  // enters and leaves at the contact's local midnight
      case Condition::Kind::kDaysFromNow: return true;
      default: break;
    }
  }
  for (const auto& c : e.children)
    if (IsTimed(*c)) return true;
  return false;
}

EvalContext SegmentEngine::Context(WorkspaceId ws, int64_t now) const {
  EvalContext ctx;
  ctx.now = now;
  ctx.default_timezone = DefaultTimezone(ws);
  ctx.segments = [this, ws](const std::string& name) { return MembersByName(ws, name); };
  return ctx;
}

std::string SegmentEngine::DefaultTimezone(WorkspaceId ws) const {
  auto it = timezones_.find(ws);
  return it == timezones_.end() || it->second.empty() ? "UTC" : it->second;
}

const Bitmap* SegmentEngine::Members(SegmentId id) const {
  auto it = saved_.find(id);
  return it == saved_.end() ? nullptr : &it->second->members;
}

const Bitmap* SegmentEngine::MembersByName(WorkspaceId ws, std::string_view name) const {
  for (const auto& [id, s] : saved_)
    if (s->saved.workspace_id == ws && s->saved.name == name) return &s->members;
  return nullptr;
}

const Expr* SegmentEngine::Expression(SegmentId id) const {
  auto it = saved_.find(id);
  return it == saved_.end() ? nullptr : it->second->expr.get();
}

std::vector<SegmentId> SegmentEngine::SegmentIds(WorkspaceId ws) const {
  std::vector<SegmentId> out;
  for (const auto& [id, s] : saved_)
    if (s->saved.workspace_id == ws) out.push_back(id);
  return out;
}

std::vector<SegmentId> SegmentEngine::SegmentsOf(WorkspaceId ws, ContactId id) const {
  std::vector<SegmentId> out;
  auto r = index_.RowOf(id);
  if (!r) return out;
  for (const auto& [sid, s] : saved_)
    if (s->saved.workspace_id == ws && s->members.Contains(*r)) out.push_back(sid);
  return out;
}

void SegmentEngine::Enqueue(Row r, int64_t at) {
  int64_t key = at / kBucketMicros;
  auto [b, fresh] = buckets_.try_emplace(key, Bucket{{}, at});
  if (fresh) bucket_keys_.insert(key);
  b->second.entries.push_back({at, r});
  b->second.min_at = std::min(b->second.min_at, at);
  ++queued_;
}

void SegmentEngine::Schedule(Row r, int64_t at) {
  if (at == kNever) return;
  if (deadline_.size() <= r) deadline_.resize(size_t{r} + 1, kNever);
  if (at >= deadline_[r]) return;
  deadline_[r] = at;
  Enqueue(r, at);
}

Evaluator& SegmentEngine::EvaluatorFor(WorkspaceId ws, int64_t now) {
  if (now != evaluators_now_) {
    evaluators_.clear();
    evaluators_now_ = now;
  }
  auto& slot = evaluators_[ws];
  if (!slot) slot = std::make_unique<Evaluator>(index_, Context(ws, now));
  return *slot;
}

void SegmentEngine::Evaluate(Saved& s, Row r, int64_t now, int depth, Evaluator& ev, int64_t* next) {
  if (depth > 64) return;
  bool in = false;
  if (index_.live().Contains(r) && index_.WorkspaceOf(r) == s.saved.workspace_id) {
    int64_t mine = kNever;
    in = ev.Matches(*s.expr, r, &mine);
    if (s.timed && mine < *next) *next = mine;
  }
  if (in == s.members.Contains(r)) return;
  s.members.Set(r, in);
  s.dirty.Add(r);
  dirty_segments_.insert(s.saved.id);
  for (Saved* d : s.dependents) Evaluate(*d, r, now, depth + 1, ev, next);
}

bool SegmentEngine::Apply(const Event& e, int64_t now) {
  if (!index_.Apply(e)) return false;
  auto r = index_.RowOf(e.contact_id);
  if (!r) return true;
  // The log says what was emitted while it is replayed at start; after that the engine knows
  // (TakeChanges marks what it hands out), and reading its own events back must not undo a later
  // change already taken (an exit taken before the entry that preceded it is read back).
  if (loading_ && (e.name == kSegmentEntered || e.name == kSegmentExited)) {
    const json::value* id = e.properties.if_contains("segment_id");
    if (id && id->is_int64()) {
      auto it = saved_.find(id->get_int64());
      if (it != saved_.end()) {
        it->second->emitted.Set(*r, e.name == kSegmentEntered);
        it->second->dirty.Add(*r);
        dirty_segments_.insert(it->first);
      }
    }
  }
  if (loading_ || all_segments_.empty()) return true;
  const std::vector<Saved*>* lists[2] = {nullptr, nullptr};
  if (TouchesEverySegment(e.name)) {
    lists[0] = &all_segments_;
  } else {
    if (IsProfileEvent(e.name)) lists[0] = &profile_segments_;
    auto it = by_event_.find(e.name);
    if (it != by_event_.end()) lists[1] = &it->second;
  }
  if (!lists[0] && !lists[1]) return true;
  const uint64_t visit = ++visit_;
  Evaluator* ev = nullptr;  // one for every segment this event touches
  int64_t next = kNever;
  for (const auto* list : lists) {
    if (!list) continue;
    for (Saved* s : *list) {
      if (s->saved.workspace_id != e.workspace_id || s->visit == visit) continue;
      s->visit = visit;
      if (!ev) ev = &EvaluatorFor(e.workspace_id, now);
      Evaluate(*s, *r, now, 0, *ev, &next);
    }
  }
  Schedule(*r, next);
  return true;
}

void SegmentEngine::Refresh(ContactId id, int64_t now) {
  auto r = index_.RowOf(id);
  if (!r) return;
  int64_t next = kNever;
  for (Saved* s : all_segments_) Evaluate(*s, *r, now, 0, EvaluatorFor(s->saved.workspace_id, now), &next);
  Schedule(*r, next);
}

void SegmentEngine::Advance(int64_t now) {
  while (!bucket_keys_.empty()) {
    int64_t key = *bucket_keys_.begin();
    auto b = buckets_.find(key);
    if (b->second.min_at > now) break;
    // Evaluation may schedule into this very bucket: work on the entries taken out of it.
    std::vector<Deadline> entries = std::move(b->second.entries);
    queued_ -= entries.size();
    buckets_.erase(b);
    bucket_keys_.erase(bucket_keys_.begin());
    std::vector<Deadline> later;
    for (const Deadline& d : entries) {
      if (d.at > now) {
        later.push_back(d);
        continue;
      }
      if (d.row >= deadline_.size() || deadline_[d.row] != d.at) continue;  // stale
      deadline_[d.row] = kNever;
      // The contact's timed segments, each with its new moment of change.
      int64_t next = kNever;
      if (index_.live().Contains(d.row)) {
        const WorkspaceId ws = index_.WorkspaceOf(d.row);
        Evaluator& ev = EvaluatorFor(ws, now);
        for (Saved* s : timed_segments_)
          if (s->saved.workspace_id == ws) Evaluate(*s, d.row, now, 0, ev, &next);
      }
      Schedule(d.row, next);
    }
    if (!later.empty()) {
      auto [nb, fresh] = buckets_.try_emplace(key, Bucket{{}, later.front().at});
      if (fresh) bucket_keys_.insert(key);
      for (const Deadline& d : later) {
        nb->second.min_at = std::min(nb->second.min_at, d.at);
        nb->second.entries.push_back(d);
      }
      queued_ += later.size();
      break;  // the rest of this bucket and every later one are after now
    }
  }
}

int64_t SegmentEngine::NextDeadline() const {
  // The first bucket's earliest entry. It may be stale: then the wake-up finds nothing to do,
  // drops it, and the next call looks further.
  if (bucket_keys_.empty()) return kNever;
  return buckets_.at(*bucket_keys_.begin()).min_at;
}

Result<std::vector<int>> SegmentEngine::Upsert(const SavedSegment& seg, const Schema& schema, int64_t now,
                                               const std::string& default_timezone) {
  auto compiled = Compile(seg.expression, schema);
  if (auto* err = std::get_if<ParseError>(&compiled)) return Error::Invalid("expression", err->ToString());
  timezones_[seg.workspace_id] = default_timezone;
  auto& slot = saved_[seg.id];
  if (!slot) slot = std::make_unique<Saved>();
  Saved& s = *slot;
  s.saved = seg;
  s.expr = std::get<ExprPtr>(std::move(compiled));
  s.events.clear();
  s.profile = false;
  Collect(*s.expr, s.events, s.profile, nullptr);
  s.timed = IsTimed(*s.expr);
  s.refs.clear();
  for (const std::string& name : SegmentRefs(*s.expr))
    for (const auto& [id, other] : saved_)
      if (other->saved.workspace_id == seg.workspace_id && other->saved.name == name) s.refs.push_back(id);
  std::vector<int> fresh = BindStreams(*s.expr, index_);
  evaluators_.clear();  // the workspace's timezone may have changed
  RebuildTables();
  if (fresh.empty() && !loading_) Recompute(seg.id, now);
  return fresh;
}

void SegmentEngine::RebuildTables() {
  by_event_.clear();
  profile_segments_.clear();
  all_segments_.clear();
  timed_segments_.clear();
  for (auto& [id, s] : saved_) {
    Saved* p = s.get();
    p->dependents.clear();
    all_segments_.push_back(p);
    if (p->profile) profile_segments_.push_back(p);
    if (p->timed) timed_segments_.push_back(p);
    for (const std::string& name : p->events) by_event_[name].push_back(p);
  }
  for (Saved* d : all_segments_)
    for (SegmentId ref : d->refs) {
      auto it = saved_.find(ref);
      if (it != saved_.end() && it->second->saved.workspace_id == d->saved.workspace_id &&
          it->second.get() != d)
        it->second->dependents.push_back(d);
    }
}

void SegmentEngine::Recompute(SegmentId id, int64_t now) {
  auto it = saved_.find(id);
  if (it == saved_.end()) return;
  Bitmap lowered;
  RecomputeOne(*it->second, now, &lowered);
  lowered.ForEach([&](uint32_t r) { Enqueue(r, deadline_[r]); });
}

void SegmentEngine::RecomputeAll(int64_t now) {
  // Each contact's deadline is lowered by every timed segment, then queued once.
  Bitmap lowered;
  for (Saved* s : all_segments_) RecomputeOne(*s, now, &lowered);
  lowered.ForEach([&](uint32_t r) { Enqueue(r, deadline_[r]); });
}

void SegmentEngine::RecomputeOne(Saved& s, int64_t now, Bitmap* lowered) {
  const Bitmap& universe = index_.Workspace(s.saved.workspace_id);
  Bitmap members = ParallelScan(index_, Context(s.saved.workspace_id, now), *s.expr, universe, ScanThreads());
  if (s.timed) {
    Evaluator& ev = EvaluatorFor(s.saved.workspace_id, now);
    if (deadline_.size() < index_.rows()) deadline_.resize(index_.rows(), kNever);
    std::vector<uint32_t> buf;
    buf.reserve(4096);
    universe.ForEach([&](uint32_t r) {
      int64_t next = kNever;
      ev.Matches(*s.expr, r, &next);
      if (next < deadline_[r]) {
        deadline_[r] = next;
        buf.push_back(r);
        if (buf.size() == buf.capacity()) {
          lowered->AddMany(buf.data(), buf.size());
          buf.clear();
        }
      }
    });
    lowered->AddMany(buf.data(), buf.size());
  }
  Bitmap changed = members;
  changed -= s.members;
  Bitmap gone = s.members;
  gone -= members;
  s.dirty |= changed;
  s.dirty |= gone;
  s.members = std::move(members);
  dirty_segments_.insert(s.saved.id);
  if (changed.Empty() && gone.Empty()) return;
  for (Saved* d : s.dependents) RecomputeOne(*d, now, lowered);
}

void SegmentEngine::Remove(SegmentId id) {
  saved_.erase(id);
  dirty_segments_.erase(id);
  RebuildTables();
}

size_t SegmentEngine::Bytes() const {
  size_t b = deadline_.capacity() * sizeof(int64_t) + buckets_.size() * (sizeof(Bucket) + 32);
  for (const auto& [key, bucket] : buckets_) b += bucket.entries.capacity() * sizeof(Deadline);
  for (const auto& [id, s] : saved_) b += s->members.Bytes() + s->emitted.Bytes() + s->dirty.Bytes();
  return b;
}

std::vector<MembershipChange> SegmentEngine::TakeChanges(size_t limit) {
  std::vector<MembershipChange> out;
  // Rows marked dirty whose bit agrees with `emitted` again (e.g. read back from the log) are
  // dropped on the way: the scan goes on until `limit` changes or no dirty row is left, so an
  // empty answer means nothing is pending.
  for (auto it = dirty_segments_.begin(); it != dirty_segments_.end() && out.size() < limit;) {
    auto sit = saved_.find(*it);
    if (sit == saved_.end()) {
      it = dirty_segments_.erase(it);
      continue;
    }
    Saved& s = *sit->second;
    while (out.size() < limit && !s.dirty.Empty()) {
      std::vector<uint32_t> rows = s.dirty.Slice(0, std::max<size_t>(limit - out.size(), 256));
      size_t taken = 0;
      for (uint32_t r : rows) {
        if (out.size() == limit) break;
        ++taken;
        bool in = s.members.Contains(r);
        if (in == s.emitted.Contains(r)) continue;
        s.emitted.Set(r, in);
        if (!index_.live().Contains(r)) continue;  // an erased contact gets no event
        out.push_back({s.saved.workspace_id, s.saved.id, s.saved.name, index_.IdOf(r), in});
      }
      if (taken == rows.size() && !rows.empty()) {
        s.dirty.RemoveRange(rows.front(), uint64_t{rows.back()} + 1);
      } else {
        for (size_t i = 0; i < taken; ++i) s.dirty.Remove(rows[i]);
      }
    }
    if (s.dirty.Empty())
      it = dirty_segments_.erase(it);
    else
      ++it;
  }
  return out;
}

std::vector<SegmentId> SegmentEngine::AllSegmentIds() const {
  std::vector<SegmentId> out;
  for (const auto& [id, s] : saved_) out.push_back(id);
  return out;
}

void SegmentEngine::Requeue(const std::vector<MembershipChange>& changes) {
  for (const MembershipChange& c : changes) {
    auto it = saved_.find(c.segment_id);
    auto r = index_.RowOf(c.contact_id);
    if (it == saved_.end() || !r) continue;
    it->second->emitted.Set(*r, !c.entered);
    it->second->dirty.Add(*r);
    dirty_segments_.insert(c.segment_id);
  }
}

size_t SegmentEngine::PendingChanges() const {
  size_t n = 0;
  for (SegmentId id : dirty_segments_) {
    auto it = saved_.find(id);
    if (it != saved_.end()) n += it->second->dirty.Cardinality();
  }
  return n;
}

}  // namespace rapport::segment
