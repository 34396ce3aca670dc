#include "http/hit_loader.h"

#include <fcntl.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "core/thread_name.h"
#include "tracking/hit_record.h"

namespace rapport::http {

namespace {

// Bytes [from, to) of an open file.
Result<std::string> ReadRange(int fd, const std::string& path, int64_t from, int64_t to) {
  std::string data;
  data.resize(static_cast<size_t>(std::max<int64_t>(0, to - from)));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(from + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return Error::Unavailable("cannot read the hit log segment " + path + ": " + std::strerror(errno));
    if (n == 0) break;  // shorter than it was said to be: a torn tail cut off
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

}  // namespace

Result<int64_t> HitLoader::LoadedPosition(FeedStore& feed, const std::string& consumer) {
  return feed.Position(consumer);
}

HitLoader::HitLoader(HitLog& log, EventStore& events, Clock& clock, int64_t loaded_position,
                     HitLoaderOptions options)
    : log_(log), events_(events), clock_(clock), options_(std::move(options)), position_(loaded_position) {
  stats_.position = loaded_position;
  thread_ = std::thread([this] {
    NameThisThread("hit-loader");
    Run();
  });
}

HitLoader::~HitLoader() {
  Stop();
  CloseReader();
}

void HitLoader::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  log_.Wake();
  loaded_cv_.notify_all();  // ends a gathering wait at once
  if (thread_.joinable()) thread_.join();
  loaded_cv_.notify_all();
}

HitLoader::Stats HitLoader::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Status HitLoader::Drain(std::chrono::milliseconds timeout) {
  int64_t target = log_.end();
  {
    std::lock_guard lock(mu_);
    rotate_requested_ = true;  // the current segment too is loaded and deleted
  }
  log_.Wake();
  std::unique_lock lock(mu_);
  bool done = loaded_cv_.wait_for(lock, timeout, [&] { return removed_up_to_ >= target || halted_; });
  if (!done || removed_up_to_ < target)
    return Error::Unavailable("the tracking hit log is not loaded yet (the store refuses writes?)");
  return {};
}

void HitLoader::Run() {
  pthread_setname_np(pthread_self(), "hit-loader");  // its CPU apart in top and /proc (bench/tracking)
  for (;;) {
    bool ok = Turn();
    bool stopping;
    {
      std::lock_guard lock(mu_);
      stopping = stopping_;
      if (halted_) {
        loaded_cv_.notify_all();  // a Drain waiting for it fails now
        return;
      }
    }
    if (stopping) {
      // Everything answered was written before Stop (the server stopped first): one last turn.
      if (ok) Turn();
      return;
    }
    if (!ok) {
      std::unique_lock lock(mu_);
      loaded_cv_.wait_for(lock, options_.retry_delay, [&] { return stopping_; });
      continue;
    }
    log_.WaitForHits(std::chrono::seconds(1), position_);
    if (options_.gather.count() > 0) {
      std::unique_lock lock(mu_);
      loaded_cv_.wait_for(lock, options_.gather, [&] { return stopping_; });
    }
  }
}

bool HitLoader::Turn() {
  bool force = false;
  {
    std::lock_guard lock(mu_);
    force = rotate_requested_ || stopping_;
    rotate_requested_ = false;
  }
  auto failed = [this](const Status& st) {
    std::lock_guard lock(mu_);
    if (halted_) return false;
    ++stats_.errors;
    spdlog::error("tracking hit log: {} (retrying)", st.error().message);
    return false;
  };
  int64_t closed_end = 0;
  std::vector<HitLog::Segment> segments = log_.Rotate(closed_end, force);
  for (const HitLog::Segment& segment : segments) {
    if (Status st = LoadSegment(segment); !st.ok()) {
      if (force) {
        std::lock_guard lock(mu_);
        rotate_requested_ = true;  // a Drain still waits for its deletion
      }
      return failed(st);
    }
    if (reader_path_ == segment.path) CloseReader();
    if (Status removed = log_.Remove(segment); !removed.ok()) {
      spdlog::error("tracking hit log: {}", removed.error().message);
      return false;
    }
  }
  // The segment being written: loaded as far as it is written, kept until it is closed.
  HitLog::Segment current = log_.Current();
  if (current.start + current.size > position_) {
    if (Status st = LoadSegment(current); !st.ok()) return failed(st);
    if (position_ < current.start + current.size) {
      // Bytes that hold no whole record (a write cut short and not cut off again): the segment is
      // closed at the next turn, loaded as far as it reads and deleted, instead of read again.
      std::lock_guard lock(mu_);
      rotate_requested_ = true;
    }
  }
  {
    std::lock_guard lock(mu_);
    removed_up_to_ = std::max(removed_up_to_, closed_end);
  }
  loaded_cv_.notify_all();
  return true;
}

void HitLoader::CloseReader() {
  if (reader_fd_ >= 0) ::close(reader_fd_);
  reader_fd_ = -1;
  reader_path_.clear();
}

Status HitLoader::LoadSegment(const HitLog::Segment& segment) {
  if (segment.start + segment.size <= position_) return {};  // loaded before a crash; not deleted
  if (reader_path_ != segment.path) {
    CloseReader();
    reader_fd_ = ::open(segment.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (reader_fd_ < 0)
      return Error::Unavailable("cannot open the hit log segment " + segment.path + ": " +
                                std::strerror(errno));
    reader_path_ = segment.path;
  }
  // From the first record not loaded yet: a position is always at a record's end.
  const int64_t from = std::max<int64_t>(0, position_ - segment.start);
  RAPPORT_ASSIGN_OR_RETURN(std::string data, ReadRange(reader_fd_, segment.path, from, segment.size));
  std::vector<tracking::HitRecord> records;
  std::vector<int64_t> ends;  // each record's position
  tracking::HitScan scan = tracking::ScanHitRecords(data, [&](tracking::HitRecord&& r, size_t end) {
    int64_t position = segment.start + from + static_cast<int64_t>(end);
    if (position <= position_) return;  // committed before
    records.push_back(std::move(r));
    ends.push_back(position);
  });
  if (!scan.clean)
    spdlog::warn(
        "tracking hit log: {} ends in {} unreadable bytes (a write cut short by a crash of the machine)",
        segment.path, data.size() - scan.valid_end);
  std::vector<NewEvent> events;
  for (size_t i = 0; i < records.size();) {
    int64_t ws = records[i].workspace_id;
    size_t j = i;
    events.clear();
    while (j < records.size() && records[j].workspace_id == ws && j - i < options_.max_batch)
      events.push_back(tracking::HitRecordEvent(records[j++]));
    int64_t position = ends[j - 1];
    RAPPORT_ASSIGN_OR_RETURN(std::vector<AppendResult> results,
                             events_.AppendAndCommit(ws, events, clock_.Now(), options_.consumer, position));
    uint64_t dropped = 0;
    for (const AppendResult& r : results) {
      if (r.outcome != AppendOutcome::kFailed) continue;
      ++dropped;
      spdlog::debug("tracking hit log: a hit of workspace {} dropped: {}", ws, r.error.message);
    }
    position_ = position;
    {
      std::lock_guard lock(mu_);
      stats_.loaded += events.size() - dropped;
      stats_.dropped += dropped;
      ++stats_.batches;
      stats_.position = position;
    }
    if (options_.after_commit && !options_.after_commit()) {
      std::lock_guard lock(mu_);
      halted_ = true;
      return Error::Unavailable("the hit loader was halted");
    }
    i = j;
  }
  return {};
}

}  // namespace rapport::http
