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
// Time comes from the Clock only. The store is reached only through its core facets.
// Thread-safety: every public method is thread-safe. Failure: store errors are returned; an
// expression that does not compile is kInvalid (field "expression") with its line and column.
#pragma once

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <thread>

#include "core/clock.h"
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
  void Stop();
  // One pass of the consumer: applies the events after the index's position, the deadlines due
  // now, and appends the membership changes. Returns the number of events applied.
  Result<size_t> Step();

  Result<SavedSegment> Create(WorkspaceId ws, SavedSegment s);
  Result<SavedSegment> Update(WorkspaceId ws, SavedSegment s);
  Status Delete(WorkspaceId ws, SegmentId id);
  Result<int64_t> Count(WorkspaceId ws, SegmentId id);
  Result<MembersPage> Members(WorkspaceId ws, SegmentId id, int limit, const std::string& cursor);
  Result<PreviewResult> Preview(WorkspaceId ws, const std::string& expression, size_t sample = 20);
  Result<std::vector<SavedSegment>> ContactSegments(WorkspaceId ws, ContactId contact);
  Result<Explanation> Explain(WorkspaceId ws, ContactId contact, SegmentId id);
  // Memory and sizes of the index (for /metrics and the benchmark).
  IndexStats Stats();

 private:
  Result<Schema> SchemaFor(WorkspaceId ws);
  Result<std::string> TimezoneOf(WorkspaceId ws);
  Status Backfill(const std::vector<int>& streams);
  Status ApplyLocked(const Event& e, int64_t now);
  Status EmitLocked();
  Status CatchUp();
  Result<size_t> StepLocked();
  Status CheckCycle(WorkspaceId ws, const SavedSegment& s);
  void Run();

  Store& store_;
  const Clock& clock_;
  std::shared_mutex mu_;
  SegmentEngine engine_;  // guarded by mu_
  std::atomic<bool> running_{false};
  bool emit_ = true;
  Alarm alarm_;
  std::thread consumer_;
  std::thread watcher_;
};

}  // namespace rapport::segment
