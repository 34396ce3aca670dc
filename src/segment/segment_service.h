// SegmentService: the segment engine kept current from the store's feed, and the operations the
// API and the CLI call (saved segments, counts, members, previews, a contact's segments, explain).
//
// Start() rebuilds the profile index by replaying the whole log (contact.* and topic.* events
// build the profiles, every event its name's stream; segment_entered / segment_exited rebuild
// what was emitted), computes every saved segment, appends the membership changes that the log
// does not hold yet, then runs a consumer thread: it applies each new event as it arrives (the
// store's FeedNotifier wakes it), re-evaluates what the event can affect, appends
// segment_entered / segment_exited for each change of membership, and sleeps through the Clock
// until the next deadline of the deadline queue (a window's edge) or the next event.
// Reads first catch up with the log (read-your-writes within this process).
//
// Emission (issue 15, creating a segment over existing contacts): a change of membership is
// computed under the lock (a new segment's members by one scan), then appended by the consumer
// thread in batches of kEmitBatch events, one transaction each, with no lock held that readers
// need: the lock is taken only to take a batch of changes from the engine. One thread appends at
// a time (emit_mu_), so the log holds each contact's changes in the order they were taken. The
// consumer applies new events between batches (feed lag stays one batch), and Stop() ends it
// after the batch in flight: what was not appended is recomputed and appended at the next Start
// (the log says what was emitted), never twice.
//
// Time comes from the Clock only. The store is reached only through its core facets.
// Thread-safety: every public method is thread-safe. Failure: store errors are returned; an
// expression that does not compile is kInvalid (field "expression") with its line and column.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "core/clock.h"
#include "core/feed_lag.h"
#include "core/store.h"
#include "segment/segment_engine.h"

namespace rapport::segment {

struct ContactBrief {
  ContactId id = 0;
  std::string email;
};

struct PreviewResult {
  int64_t count = 0;
  std::vector<ContactBrief> sample;
  int64_t micros = 0;  // evaluation time
  std::string canonical;
};

struct MembersPage {
  std::vector<ContactBrief> items;
  std::string next_cursor;
};

struct Explanation {
  bool member = false;
  std::vector<Evaluator::Step> steps;
};

class SegmentService {
 public:
  SegmentService(Store& store, const Clock& clock);
  ~SegmentService();

  // Rebuilds the index from the log and starts the consumer thread (run_thread false: tests
  // drive Step() themselves). With emit false nothing is ever appended (a read-only user such as
  // `rapport segments count`).
  Status Start(bool run_thread = true, bool emit = true);
  // Ends the consumer after the batch it is appending, and makes a long Create, Update or
  // Preview in another thread return kUnavailable at its next batch of the log. Idempotent.
  void Stop();
  // One pass of the consumer: applies the events after the index's position, the deadlines due
  // now, and appends every pending membership change. Returns the number of events applied.
  Result<size_t> Step();
  // Membership changes computed but not appended yet (for tests and /metrics).
  size_t PendingChanges();
  // The feed lag of the events applied after Start: from each event's acceptance to the moment
  // the memberships it changes were current (GET /metrics, rapport_feed_lag_seconds). The
  // rebuild at Start is not counted.
  const FeedLag& lag() const { return lag_; }
  // Events appended per transaction when emitting membership changes.
  static constexpr size_t kEmitBatch = 5000;

  Result<SavedSegment> Create(WorkspaceId ws, SavedSegment s);
  Result<SavedSegment> Update(WorkspaceId ws, SavedSegment s);
  Status Delete(WorkspaceId ws, SegmentId id);
  Result<int64_t> Count(WorkspaceId ws, SegmentId id);
  Result<MembersPage> Members(WorkspaceId ws, SegmentId id, int limit, const std::string& cursor);
  Result<PreviewResult> Preview(WorkspaceId ws, const std::string& expression, size_t sample = 20);
  Result<std::vector<SavedSegment>> ContactSegments(WorkspaceId ws, ContactId contact);
  Result<Explanation> Explain(WorkspaceId ws, ContactId contact, SegmentId id);
  // Whether one contact matches an expression now (in the workspace's timezone), as a saved
  // segment of that expression would count it: what journeys' entry rules and branches ask
  // (docs/journeys.md). The expression is compiled once per (workspace, text) and kept (at most
  // kExpressionCache of them; the cache is emptied when full), its streams bound and filled from
  // the log as Preview fills them, so a journey's hot path parses nothing. Catches up with the
  // log first, so a contact created just before is known. kInvalid (field "expression") for an
  // expression that does not compile; kNotFound for a contact the store does not have. An erased
  // contact, or one of another workspace, matches nothing.
  Result<bool> Matches(WorkspaceId ws, ContactId contact, const std::string& expression);
  // kInvalid (field "expression") with the parser's or checker's message (line, column and the
  // "did you mean" hint) when the expression does not compile against the workspace; nothing is
  // kept or filled.
  Status CheckExpression(WorkspaceId ws, const std::string& expression);
  // Compiled expressions kept for Matches at most.
  static constexpr size_t kExpressionCache = 512;
  // Memory and sizes of the index (for /metrics and the benchmark).
  IndexStats Stats();
  // Per-contact totals of one event over a period, read from the index (never a database query):
  // for every live contact of the workspace created before `to_us`, `fn(id, count, sum)` with the
  // number of `event` events whose time is in [from_us, to_us) and the sum of their `property`
  // values (events without a numeric value add 0; an empty property sums nothing). The event's
  // stream is built from the log the first time it is asked for. Called under the index's read
  // lock: `fn` must not call back into the service.
  Status ForEachEventTotals(WorkspaceId ws, const std::string& event, const std::string& property,
                            int64_t from_us, int64_t to_us,
                            const std::function<void(ContactId, int64_t, double)>& fn);

 private:
  Result<Schema> SchemaFor(WorkspaceId ws);
  Result<std::string> TimezoneOf(WorkspaceId ws);
  // Fills new streams by replaying the log up to the index's position, then marks them filled;
  // on an error (or a stop) they stay unfilled and the next EnsureStream starts them again.
  Status Backfill(const std::vector<int>& streams);
  Status ApplyLocked(const Event& e, int64_t now);
  // Appends up to `limit` pending changes in one transaction (takes emit_mu_, then mu_ briefly).
  // Returns how many were appended.
  Result<size_t> EmitBatch(size_t limit);
  // Appends every pending change, batch by batch, until none is left or Stop() was called.
  Status EmitAll();
  Status CatchUp();
  // Applies the events after the index's position and the deadlines due now (no emission).
  Result<size_t> ApplyNewLocked();
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  Status CheckCycle(WorkspaceId ws, const SavedSegment& s);
  // Matches' compiled expression, or nullptr (mu_ held, shared is enough).
  const Expr* CachedExpressionLocked(WorkspaceId ws, const std::string& expression) const;
  // True when every stream the expression reads is filled (mu_ held).
  bool StreamsFilledLocked(const Expr& e) const;
  // One contact's row evaluated at the clock's now (mu_ held); false when it is not a live
  // contact of the workspace.
  bool MatchesRowLocked(WorkspaceId ws, Row r, const Expr& e, const std::string& timezone);
  // kConflict (on `field`) when another saved segment of the workspace refers to `old` by name
  // (for a delete or a rename): that one must be changed first.
  Status CheckNoReferrer(WorkspaceId ws, const SavedSegment& old, std::string_view field);
  void Run();

  Store& store_;
  const Clock& clock_;
  std::mutex emit_mu_;  // taken before mu_, never after
  std::shared_mutex mu_;
  SegmentEngine engine_;  // guarded by mu_
  // Matches' compiled expressions by workspace and text, their streams bound. Guarded by mu_:
  // read under the shared lock, changed only under the unique lock.
  std::map<WorkspaceId, std::map<std::string, ExprPtr, std::less<>>> expressions_;
  size_t expressions_size_ = 0;  // guarded by mu_
  std::atomic<bool> running_{false};
  FeedLag lag_;
  std::atomic<bool> stopping_{false};
  bool emit_ = true;
  Alarm alarm_;
  std::thread consumer_;
  std::thread watcher_;
};

}  // namespace rapport::segment
