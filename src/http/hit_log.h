// The tracking hit log: where an answered open or click is first written, before a loader
// (http/hit_loader.h) turns it into its event in the one log. A hit costs one write(2) of a small
// frame (tracking/hit_record.h) to a file instead of a transaction, and survives a kill -9 of the
// process once Append returned (the bytes are in the kernel's page cache). For a power loss, an
// fsync thread fdatasyncs every open segment (and the directory, when a segment was created) every
// `fsync_interval`: what was answered longer ago than that (plus the fsync's own time) is on disk.
//
// Files: `<dir>/hits-<start>.log`, where <start> (20 digits) is the segment's first byte's
// position in the log as a whole (a byte count over every segment ever written, never reused).
// A record's position is the position of the byte after it; the loader commits the position it
// loaded up to with the events (store: EventStore::AppendAndCommit), so a file loaded and not yet
// deleted is never loaded twice. Open never appends to an existing segment (it may end in a torn
// frame): it starts a new one at max(the loaded position, the end of the last one).
//
// Thread-safety: Append from any thread; Rotate/Remove/Segments from the one loader thread.
// Failure: Append returns kUnavailable when the write fails (disk full ...); a partial frame is
// cut off again, so a file never holds a torn frame while the process lives.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/error.h"
#include "tracking/hit_record.h"

namespace rapport::http {

struct HitLogOptions {
  std::string dir;  // created (0700) when missing
  // How often the fsync thread syncs what was written (0: never; the bytes still survive kill -9).
  std::chrono::milliseconds fsync_interval{50};
  // The loader reads the current segment as it grows and closes it (Rotate), to load what is left
  // and delete it, once it holds segment_bytes or is segment_age old, or when it must empty the log
  // (HitLoader::Drain, for an erasure): a file is made and deleted about once a second under load,
  // not at every turn of the loader, and a loaded hit stays on disk about a second or two.
  int64_t segment_bytes = 8 << 20;
  std::chrono::milliseconds segment_age{1000};
};

class HitLog {
 public:
  struct Segment {
    std::string path;
    int64_t start = 0;  // position of its first byte
    int64_t size = 0;   // bytes in it (as written, torn tail included)
    int fd = -1;        // open while the segment lives (for the fsync thread); -1 for leftovers
  };

  // Opens `options.dir`: the segments found there are the leftovers (to load), and new hits go to
  // a new segment starting at max(loaded_position, the end of the last leftover).
  static Result<std::unique_ptr<HitLog>> Open(HitLogOptions options, int64_t loaded_position);
  ~HitLog();
  HitLog(const HitLog&) = delete;
  HitLog& operator=(const HitLog&) = delete;

  // Writes the record's frame; once OK, the hit survives kill -9.
  Status Append(const tracking::HitRecord& record);
  // The same, with what follows the write in `then`. On a thread that called DeferOnThisThread,
  // the frame waits for that thread's FlushDeferred, which writes every frame it holds with one
  // write(2) and then calls each `then` with the outcome (so a hit is still answered only once it
  // is written); elsewhere it is Append, then `then` at once.
  void AppendThen(const tracking::HitRecord& record, std::function<void(Status)> then);
  // For a thread that handles hits in batches (the server's fast lane): from now on AppendThen on
  // it defers, until the thread calls FlushDeferred after each batch.
  void DeferOnThisThread();
  void FlushDeferred();

  // The loader's side. Waits until hits past `loaded` (a position) are written, or `timeout`
  // passes, or Wake() is called; true when there are.
  bool WaitForHits(std::chrono::milliseconds timeout, int64_t loaded);
  void Wake();
  // Closes the current segment (hits go to a new one from now on) when it holds segment_bytes or
  // is segment_age old, or anything at all with `force`. Returns every closed segment not yet removed, oldest
  // first: the ones to load; `closed_end` is the position where the current segment starts (everything before
  // it is in those).
  std::vector<Segment> Rotate(int64_t& closed_end, bool force);
  // The segment hits are written to now (its fd: -1; `size`: whole frames only).
  Segment Current() const;
  // Deletes a loaded segment (the oldest closed one).
  Status Remove(const Segment& segment);
  // The position after the last byte written so far.
  int64_t end() const;

  struct Stats {
    uint64_t hits = 0;          // written
    uint64_t failed = 0;        // writes that failed
    uint64_t segments = 0;      // segment files on disk now
    int64_t pending_bytes = 0;  // written and not yet removed
  };
  Stats stats() const;

 private:
  explicit HitLog(HitLogOptions options);
  Status StartSegment(int64_t start);  // under mu_
  Status WriteFrames(std::string_view frames, size_t count);
  void SyncLoop();

  const HitLogOptions options_;
  int dir_fd_ = -1;
  mutable std::mutex mu_;
  std::condition_variable written_;
  Segment current_;                                      // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point current_since_;  // GUARDED_BY(mu_): when it was made
  std::deque<Segment> closed_;                           // GUARDED_BY(mu_); oldest first
  int64_t removed_end_ = 0;                              // GUARDED_BY(mu_); end of the last removed segment
  bool woken_ = false;                                   // GUARDED_BY(mu_)
  bool loader_waiting_ = false;                          // GUARDED_BY(mu_); a write then wakes it
  bool dirty_ = false;                                   // GUARDED_BY(mu_); written since the last sync
  bool dir_dirty_ = false;          // GUARDED_BY(mu_); a segment was created since the last sync
  uint64_t hits_ = 0, failed_ = 0;  // GUARDED_BY(mu_)
  std::mutex sync_mu_;              // held while syncing; a segment's fd is closed only under it
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread syncer_;
};

}  // namespace rapport::http
