// Group commit for the tracking hits (/o/ and /c/): each hit's event goes to one writer thread that
// appends everything queued meanwhile in one Append per workspace (one transaction), and each
// caller's Submit returns only after the transaction that holds its event has committed (or
// failed). An answered hit is therefore as durable as before (in the database, at the store's
// synchronous setting), while the commit cost is shared by every hit that arrived during the
// previous commit. Callers either block in Submit (so many must run at once: the server's handler
// threads) or hand a callback to SubmitAsync, which the writer thread calls after the commit (the
// server's I/O threads use it: the answer is still written only after the hit's commit).
//
// Bounded: at most max_queued hits wait (queued or in the commit under way); one more is refused
// at once with kUnavailable (-> 503). A failed transaction fails every hit in it and no other.
// Stop() (and the destructor) commits what is queued, then refuses new hits with kUnavailable.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/store.h"

namespace rapport::http {

struct HitBatcherOptions {
  size_t max_queued = 4096;  // hits waiting at once; the next one is refused (503)
  size_t max_batch = 1024;   // hits per commit at most
};

class HitBatcher {
 public:
  HitBatcher(EventStore& events, Clock& clock, HitBatcherOptions options = {});
  ~HitBatcher();
  HitBatcher(const HitBatcher&) = delete;
  HitBatcher& operator=(const HitBatcher&) = delete;

  // Appends the event (in a batch) and returns its result once its transaction has returned:
  // kAccepted means committed. kUnavailable when the queue is full or the batcher stopped; the
  // transaction's error when it failed.
  Result<AppendResult> Submit(WorkspaceId ws, NewEvent event);
  // The same without waiting: `done` is called exactly once with what Submit would return, on the
  // writer thread after the transaction returned (or at once, on the caller's thread, when the
  // hit is refused). `done` must be cheap and must not call back into the batcher.
  using Done = std::function<void(Result<AppendResult>)>;
  void SubmitAsync(WorkspaceId ws, NewEvent event, Done done);
  // Commits what is queued, then ends the writer; later Submits are refused. Idempotent.
  void Stop();

  struct Stats {
    uint64_t batches = 0;
    uint64_t hits = 0;
    uint64_t refused = 0;
    size_t queued = 0;  // waiting for the next commit (not counting the one under way)
  };
  Stats stats() const;

 private:
  struct Pending;
  // Queues p; false (with the reason in p->result) when refused.
  bool Enqueue(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Pending>& p);
  void Run();

  EventStore& events_;
  Clock& clock_;
  const HitBatcherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Pending>> queue_;
  size_t in_commit_ = 0;
  bool stopping_ = false;
  Stats stats_;
  std::thread writer_;
};

}  // namespace rapport::http
