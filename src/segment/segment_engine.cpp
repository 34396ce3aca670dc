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
    case Expr::Kind::kBehavior: events.insert(e.behavior.event); break;
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
      case Condition::Kind::kAnniversary: return true;
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

void SegmentEngine::Schedule(Saved& s, Row r, int64_t at) {
  if (at == kNever) {
    s.scheduled.erase(r);
    return;
  }
  auto [it, inserted] = s.scheduled.try_emplace(r, at);
  if (!inserted) {
    if (it->second == at) return;
    it->second = at;
  }
  int64_t key = at / kBucketMicros;
  auto [b, fresh] = buckets_.try_emplace(key, Bucket{{}, at});
  if (fresh) bucket_keys_.insert(key);
  b->second.entries.push_back({at, s.saved.id, r});
  b->second.min_at = std::min(b->second.min_at, at);
  ++queued_;
}

void SegmentEngine::Evaluate(Saved& s, Row r, int64_t now, int depth, Evaluator* shared) {
  if (depth > 64) return;
  bool in = false;
  int64_t next = kNever;
  if (index_.live().Contains(r) && index_.WorkspaceOf(r) == s.saved.workspace_id) {
    if (shared) {
      in = shared->Matches(*s.expr, r, &next);
    } else {
      Evaluator ev(index_, Context(s.saved.workspace_id, now));
      in = ev.Matches(*s.expr, r, &next);
    }
  }
  if (s.timed) Schedule(s, r, next);
  if (in == s.members.Contains(r)) return;
  s.members.Set(r, in);
  s.dirty.Add(r);
  dirty_segments_.insert(s.saved.id);
  for (auto& [id, d] : saved_)
    if (d->saved.workspace_id == s.saved.workspace_id &&
        std::find(d->refs.begin(), d->refs.end(), s.saved.id) != d->refs.end())
      Evaluate(*d, r, now, depth + 1, shared);
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
  if (loading_) return true;
  bool all = TouchesEverySegment(e.name);
  bool profile = IsProfileEvent(e.name);
  std::optional<Evaluator> ev;  // one for every segment this event touches
  for (auto& [id, s] : saved_) {
    if (s->saved.workspace_id != e.workspace_id) continue;
    if (all || (profile && s->profile) || s->events.count(e.name)) {
      if (!ev) ev.emplace(index_, Context(e.workspace_id, now));
      Evaluate(*s, *r, now, 0, &*ev);
    }
  }
  return true;
}

void SegmentEngine::Refresh(ContactId id, int64_t now) {
  auto r = index_.RowOf(id);
  if (!r) return;
  for (auto& [sid, s] : saved_) Evaluate(*s, *r, now, 0);
}

void SegmentEngine::Advance(int64_t now) {
  while (!bucket_keys_.empty()) {
    int64_t key = *bucket_keys_.begin();
    auto b = buckets_.find(key);
    if (b->second.min_at > now) break;
    // Evaluate may schedule into this very bucket: work on the entries taken out of it.
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
      auto it = saved_.find(d.id);
      if (it == saved_.end()) continue;
      auto k = it->second->scheduled.find(d.row);
      if (k == it->second->scheduled.end() || k->second != d.at) continue;  // stale
      it->second->scheduled.erase(k);
      Evaluate(*it->second, d.row, now, 0);
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
  if (fresh.empty() && !loading_) Recompute(seg.id, now);
  return fresh;
}

void SegmentEngine::Recompute(SegmentId id, int64_t now) {
  auto it = saved_.find(id);
  if (it == saved_.end()) return;
  Saved& s = *it->second;
  s.scheduled.clear();
  Evaluator ev(index_, Context(s.saved.workspace_id, now));
  const Bitmap& universe = index_.Workspace(s.saved.workspace_id);
  Bitmap members = ParallelScan(index_, Context(s.saved.workspace_id, now), *s.expr, universe, ScanThreads());
  if (s.timed) {
    universe.ForEach([&](uint32_t r) {
      int64_t next = kNever;
      ev.Matches(*s.expr, r, &next);
      Schedule(s, r, next);
    });
  }
  Bitmap changed = members;
  changed -= s.members;
  Bitmap gone = s.members;
  gone -= members;
  s.dirty |= changed;
  s.dirty |= gone;
  s.members = std::move(members);
  dirty_segments_.insert(id);
  for (auto& [other_id, d] : saved_)
    if (other_id != id && std::find(d->refs.begin(), d->refs.end(), id) != d->refs.end() &&
        !(changed.Empty() && gone.Empty()))
      Recompute(other_id, now);
}

void SegmentEngine::Remove(SegmentId id) {
  saved_.erase(id);
  dirty_segments_.erase(id);
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
