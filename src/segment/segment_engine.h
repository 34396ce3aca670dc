// SegmentEngine: the profile index, the saved segments compiled against it, and each segment's
// members kept current event by event and as time passes. Pure: no I/O, no clock of its own
// (every call that depends on time takes `now`). The SegmentService drives it from the feed.
//
// Incremental evaluation: an event re-evaluates, for its contact only, the segments it can
// affect (those that read its event name; every segment that reads the profile for contact.*
// and topic.* events; every segment for a contact created, imported, erased or merged), then
// the segments that refer to a segment whose membership changed. The segments an event name
// reaches are looked up in a table kept when segments are saved (no walk over every segment,
// no allocation per event). Each evaluation also yields the next moment the contact's
// membership can change as time passes (a window's edge, local midnight for date conditions, a
// future event's time). The deadline queue keeps one time per contact: the earliest such moment
// over its timed segments (8 bytes a contact, whatever the number of segments). An event can
// only lower it (the segments it did not re-evaluate keep their moments); when it passes,
// Advance(now) re-evaluates the contact's timed segments and sets it to their new earliest
// moment. A deadline that was lowered for a segment whose moment later moved away fires early
// and finds nothing to change: never late. Nothing is rescanned as time passes.
//
// Emission: `emitted` is what the log says about membership (at start, the segment_entered /
// segment_exited events replayed from the log; then what TakeChanges handed out, the events read
// back being ignored); `members` is what the index says now. TakeChanges() returns the difference
// as events to append and counts them as emitted, so each change is appended once; after a
// restart, replaying the log rebuilds both.
// Thread-safety: none inside; SegmentService guards it.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/saved_segment.h"
#include "segment/ast.h"
#include "segment/evaluator.h"
#include "segment/profile_index.h"

namespace rapport::segment {

inline constexpr std::string_view kSegmentEntered = "segment_entered";
inline constexpr std::string_view kSegmentExited = "segment_exited";

struct MembershipChange {
  WorkspaceId workspace_id = 0;
  SegmentId segment_id = 0;
  std::string segment_name;
  ContactId contact_id = 0;
  bool entered = false;
};

class SegmentEngine {
 public:
  ProfileIndex& index() { return index_; }
  const ProfileIndex& index() const { return index_; }

  // Applies one event of the feed at time `now`. Returns false when the index did not know the
  // event's contact (see ProfileIndex::Apply).
  bool Apply(const Event& e, int64_t now);
  // Re-evaluates the contact in every segment (after SetContact / MoveEvents for a merge).
  void Refresh(ContactId id, int64_t now);
  // Re-evaluates the (segment, contact) pairs whose deadline is at or before `now`.
  void Advance(int64_t now);
  // The earliest deadline in the queue (INT64_MAX when none).
  int64_t NextDeadline() const;

  // Compiles and (re)computes a saved segment with a full scan. The expression must compile
  // against `schema` (segments included); returns the streams that are new (to backfill from
  // the log, then call Recompute).
  Result<std::vector<int>> Upsert(const SavedSegment& s, const Schema& schema, int64_t now,
                                  const std::string& default_timezone);
  void Recompute(SegmentId id, int64_t now);
  // Recompute for every segment (at start), queueing each contact's deadline once.
  void RecomputeAll(int64_t now);
  void Remove(SegmentId id);

  // While loading (the start-up replay of the log), Apply only fills the index and records what
  // was emitted; Upsert does not compute. Call Recompute for every segment after.
  void set_loading(bool loading) { loading_ = loading; }
  std::vector<SegmentId> AllSegmentIds() const;
  // Puts changes that could not be appended back, to be taken again.
  void Requeue(const std::vector<MembershipChange>& changes);

  // Membership changes not yet emitted (at most `limit`), counted as emitted once returned.
  std::vector<MembershipChange> TakeChanges(size_t limit);
  size_t PendingChanges() const;

  const Bitmap* Members(SegmentId id) const;
  const Bitmap* MembersByName(WorkspaceId ws, std::string_view name) const;
  const Expr* Expression(SegmentId id) const;
  // Saved segments of a workspace the contact is a member of.
  std::vector<SegmentId> SegmentsOf(WorkspaceId ws, ContactId id) const;
  std::vector<SegmentId> SegmentIds(WorkspaceId ws) const;
  std::string DefaultTimezone(WorkspaceId ws) const;
  EvalContext Context(WorkspaceId ws, int64_t now) const;
  // Entries in the deadline queue (stale ones included).
  size_t QueueSize() const { return queued_; }
  // Approximate heap bytes of the segments' members and the deadline queue.
  size_t Bytes() const;

 private:
  struct Saved {
    SavedSegment saved;
    ExprPtr expr;
    std::set<std::string> events;    // event names its behaviors read
    bool profile = false;            // reads fields, attributes, topics or the timezone
    bool timed = false;              // its value can change as time passes
    std::vector<SegmentId> refs;     // segments it refers to
    std::vector<Saved*> dependents;  // saved segments that refer to this one (RebuildTables)
    Bitmap members;
    Bitmap emitted;
    Bitmap dirty;  // rows whose members bit differs from emitted, maybe
    std::string timezone;
    uint64_t visit = 0;  // the Apply call that last evaluated it (no segment twice per event)
  };
  // Evaluates `s` for row r (and the segments that refer to it, when its membership changes);
  // lowers *next to the moment the result may change as time passes.
  void Evaluate(Saved& s, Row r, int64_t now, int depth, Evaluator& ev, int64_t* next);
  // Lowers row r's deadline to `at` (queued when it moves earlier).
  void Schedule(Row r, int64_t at);
  void Enqueue(Row r, int64_t at);
  void RecomputeOne(Saved& s, int64_t now, Bitmap* lowered);
  void RebuildTables();
  Evaluator& EvaluatorFor(WorkspaceId ws, int64_t now);

  ProfileIndex index_;
  std::map<SegmentId, std::unique_ptr<Saved>> saved_;
  std::map<WorkspaceId, std::string> timezones_;
  // Dispatch tables (RebuildTables, after every Upsert and Remove), in segment id order: the
  // segments reading each event name, those reading the profile, all, and the timed ones.
  std::unordered_map<std::string, std::vector<Saved*>> by_event_;
  std::vector<Saved*> profile_segments_;
  std::vector<Saved*> all_segments_;
  std::vector<Saved*> timed_segments_;
  uint64_t visit_ = 0;
  // One Evaluator per workspace for the current `now` (built on first use; Evaluators cache the
  // local day per timezone, so they are dropped when now changes).
  std::map<WorkspaceId, std::unique_ptr<Evaluator>> evaluators_;
  int64_t evaluators_now_ = 0;
  // Deadline queue: each row's earliest moment of change (kNever when none) and a wheel of
  // one-minute buckets of (time, row); an entry whose time is not its row's deadline any more is
  // stale and skipped when its bucket drains.
  std::vector<int64_t> deadline_;
  struct Deadline {
    int64_t at;
    Row row;
  };
  struct Bucket {
    std::vector<Deadline> entries;
    int64_t min_at;  // the earliest entry (stale ones included)
  };
  static constexpr int64_t kBucketMicros = 60'000'000;
  std::unordered_map<int64_t, Bucket> buckets_;  // by at / kBucketMicros
  std::set<int64_t> bucket_keys_;                // the keys of buckets_, in order
  size_t queued_ = 0;
  std::set<SegmentId> dirty_segments_;
  bool loading_ = false;
};

// True when the expression's value can change as time passes (windows, relative dates, `now`).
bool IsTimed(const Expr& e);

}  // namespace rapport::segment
