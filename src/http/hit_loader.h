// The loader of the tracking hit log (http/hit_log.h): one thread that turns the hits written
// there into their "email_opened" / "email_clicked" events in the one log, in order, in batches,
// exactly once. Each turn loads every closed segment, then the current one as far as it is written
// (a segment is closed, HitLog::Rotate, once it holds HitLogOptions::segment_bytes, or when Drain
// asks): consecutive records of one workspace (at most max_batch) are appended in one transaction that
// also commits the log position after the last of them as the feed consumer `consumer`'s
// position (EventStore::AppendAndCommit). A segment is deleted once it is loaded; a crash between
// a commit and the deletion loads nothing twice, since records at or below the committed position
// are skipped. At start the leftovers of an earlier process are loaded first.
//
// A hit whose contact is gone (erased, or merged away) is dropped: the store refuses its event.
// A store error leaves the segment in place; the loader tries again after `retry_delay`. A hit is
// loaded within milliseconds (the loader wakes on the first hit past what it loaded and gathers
// for `gather`, 5 ms); its file is deleted once it is closed (HitLogOptions: about a second, or
// 8 MiB), later only while the store refuses writes. Drain() waits for
// everything written before it to be loaded and deleted (contact erasure calls it: no file keeps an erased
// contact's hits after the erasure returns, http/contacts_handlers.cpp).
//
// Thread-safety: Drain and stats from any thread. Stop (and the destructor) loads what is
// written, then ends the thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/store.h"
#include "http/hit_log.h"

namespace rapport::http {

struct HitLoaderOptions {
  std::string consumer = "hit_log";  // the feed consumer name its position is kept under (per node)
  size_t max_batch = 1024;           // events per transaction at most
  std::chrono::milliseconds retry_delay{500};
  // After a hit wakes it, the loader gathers for this long before its turn, so a turn loads many
  // hits at once: a turn costs a transaction and a wake-up of every feed consumer, which paid per
  // hit or two at 10,000 clicks/s cost more than the hits did.
  // The hit is durable from its write either way; only its event comes this much later.
  std::chrono::milliseconds gather{5};
  // Tests: called after each committed batch, before the next one and before the segment's
  // deletion; returning false stops the loader there, as a crash would (the segment stays).
  std::function<bool()> after_commit;
};

class HitLoader {
 public:
  // Starts the thread. `loaded_position` is LoadedPosition(), the one `log` was opened at.
  HitLoader(HitLog& log, EventStore& events, Clock& clock, int64_t loaded_position,
            HitLoaderOptions options = {});
  ~HitLoader();
  HitLoader(const HitLoader&) = delete;
  HitLoader& operator=(const HitLoader&) = delete;

  // The position to open the log at: the consumer's committed position.
  static Result<int64_t> LoadedPosition(FeedStore& feed, const std::string& consumer);

  // Waits until every hit written before the call is loaded and its segment deleted; kUnavailable
  // after `timeout` (the store refuses writes, or the loader stopped).
  Status Drain(std::chrono::milliseconds timeout);
  // Loads what is written, then ends the thread. Idempotent.
  void Stop();

  struct Stats {
    uint64_t loaded = 0;   // events appended
    uint64_t dropped = 0;  // hits whose event the store refused (contact gone)
    uint64_t batches = 0;  // transactions
    uint64_t errors = 0;   // failed turns (retried)
    int64_t position = 0;  // loaded up to
  };
  Stats stats() const;

 private:
  void Run();
  // Loads every closed segment; false when it stopped early (an error, or after_commit said so).
  bool Turn();
  Status LoadSegment(const HitLog::Segment& segment);  // from position_ up to segment.size
  void CloseReader();

  HitLog& log_;
  EventStore& events_;
  Clock& clock_;
  const HitLoaderOptions options_;
  mutable std::mutex mu_;
  std::condition_variable loaded_cv_;
  Stats stats_;                    // GUARDED_BY(mu_)
  int64_t position_ = 0;           // loader thread: the committed position
  int64_t removed_up_to_ = -1;     // GUARDED_BY(mu_): every segment ending at or before it is deleted
  bool stopping_ = false;          // GUARDED_BY(mu_)
  bool halted_ = false;            // GUARDED_BY(mu_): after_commit stopped it
  bool rotate_requested_ = false;  // GUARDED_BY(mu_): Drain wants the current segment deleted too
  int reader_fd_ = -1;             // loader thread: the segment being read, kept open across turns
  std::string reader_path_;
  std::thread thread_;
};

}  // namespace rapport::http
