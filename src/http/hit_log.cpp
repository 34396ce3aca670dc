#include "http/hit_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/thread_name.h"

namespace rapport::http {

namespace fs = std::filesystem;

namespace {

std::string SegmentName(int64_t start) { return fmt::format("hits-{:020}.log", start); }

// "hits-<20 digits>.log" -> its start; -1 for any other name.
int64_t ParseSegmentName(const std::string& name) {
  if (name.size() != 5 + 20 + 4 || !name.starts_with("hits-") || !name.ends_with(".log")) return -1;
  int64_t v = 0;
  for (size_t i = 5; i < 25; ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    if (v > (INT64_MAX - 9) / 10) return -1;
    v = v * 10 + (name[i] - '0');
  }
  return v;
}

}  // namespace

HitLog::HitLog(HitLogOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<HitLog>> HitLog::Open(HitLogOptions options, int64_t loaded_position) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec)
    return Error::Unavailable("cannot create the hit log directory " + options.dir + ": " + ec.message());
  fs::permissions(options.dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  std::unique_ptr<HitLog> log(new HitLog(options));
  log->dir_fd_ = ::open(options.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (log->dir_fd_ < 0)
    return Error::Unavailable("cannot open the hit log directory " + options.dir + ": " +
                              std::strerror(errno));
  std::vector<Segment> found;
  for (const auto& entry : fs::directory_iterator(options.dir, ec)) {
    int64_t start = ParseSegmentName(entry.path().filename().string());
    if (start < 0 || !entry.is_regular_file()) continue;
    if (entry.file_size() == 0) {  // the current segment of an earlier process, unused: holds nothing
      std::error_code ignored;
      fs::remove(entry.path(), ignored);
      continue;
    }
    found.push_back(Segment{entry.path().string(), start, static_cast<int64_t>(entry.file_size()), -1});
  }
  if (ec) return Error::Unavailable("cannot list the hit log directory " + options.dir + ": " + ec.message());
  std::sort(found.begin(), found.end(), [](const Segment& a, const Segment& b) { return a.start < b.start; });
  int64_t next = std::max<int64_t>(loaded_position, 0);
  for (const Segment& s : found) next = std::max(next, s.start + s.size);
  std::lock_guard lock(log->mu_);
  log->removed_end_ = found.empty() ? next : found.front().start;
  log->closed_.assign(found.begin(), found.end());
  RAPPORT_TRY(log->StartSegment(next));
  if (options.fsync_interval.count() > 0)
    log->syncer_ = std::thread([p = log.get()] {
      NameThisThread("hit-log-sync");
      p->SyncLoop();
    });
  return log;
}

HitLog::~HitLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  std::lock_guard lock(mu_);
  for (Segment& s : closed_)
    if (s.fd >= 0) ::close(s.fd);
  if (current_.fd >= 0) {
    if (dirty_ && options_.fsync_interval.count() > 0) ::fdatasync(current_.fd);
    ::close(current_.fd);
  }
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

Status HitLog::StartSegment(int64_t start) {
  std::string path = (fs::path(options_.dir) / SegmentName(start)).string();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    return Error::Unavailable("cannot create the hit log segment " + path + ": " + std::strerror(errno));
  current_ = Segment{std::move(path), start, 0, fd};
  current_since_ = std::chrono::steady_clock::now();
  dir_dirty_ = true;
  return {};
}

namespace {

// A thread's deferred frames (DeferOnThisThread): for one log at a time.
struct Deferred {
  HitLog* log = nullptr;
  std::string frames;
  std::vector<std::function<void(Status)>> then;
};
thread_local Deferred deferred;

}  // namespace

Status HitLog::Append(const tracking::HitRecord& record) {
  thread_local std::string frame;
  frame.clear();
  tracking::EncodeHitRecord(record, frame);
  return WriteFrames(frame, 1);
}

void HitLog::AppendThen(const tracking::HitRecord& record, std::function<void(Status)> then) {
  if (deferred.log != this) return then(Append(record));
  tracking::EncodeHitRecord(record, deferred.frames);
  deferred.then.push_back(std::move(then));
}

void HitLog::DeferOnThisThread() {
  FlushDeferred();  // what another log deferred on this thread, if any
  deferred.log = this;
}

void HitLog::FlushDeferred() {
  if (deferred.then.empty()) return;
  HitLog* log = deferred.log;
  std::vector<std::function<void(Status)>> then;
  then.swap(deferred.then);
  Status st = log->WriteFrames(deferred.frames, then.size());
  deferred.frames.clear();
  for (auto& t : then) t(st);
}

Status HitLog::WriteFrames(std::string_view frames, size_t count) {
  std::unique_lock lock(mu_);
  if (current_.fd < 0) {
    failed_ += count;
    return Error::Unavailable("the hit log has no open segment");
  }
  size_t done = 0;
  while (done < frames.size()) {
    ssize_t n = ::write(current_.fd, frames.data() + done, frames.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      // Cut what was written of them off again: a later frame must not follow a torn one, and
      // none of these hits is answered as recorded.
      if (done > 0 && ::ftruncate(current_.fd, current_.size) != 0)
        spdlog::error("hit log: cannot cut a partial frame off {}: {}", current_.path, std::strerror(errno));
      failed_ += count;
      return Error::Unavailable(std::string("cannot write the hit log: ") +
                                std::strerror(n < 0 ? err : ENOSPC));
    }
    done += static_cast<size_t>(n);
  }
  current_.size += static_cast<int64_t>(frames.size());
  dirty_ = true;
  hits_ += count;
  bool wake = loader_waiting_;  // the loader waits for the first hit past what it loaded
  loader_waiting_ = false;
  lock.unlock();
  if (wake) written_.notify_one();
  return {};
}

bool HitLog::WaitForHits(std::chrono::milliseconds timeout, int64_t loaded) {
  std::unique_lock lock(mu_);
  auto unloaded = [&] { return current_.start + current_.size > loaded || !closed_.empty(); };
  loader_waiting_ = true;
  written_.wait_for(lock, timeout, [&] { return unloaded() || woken_; });
  loader_waiting_ = false;
  woken_ = false;
  return unloaded();
}

HitLog::Segment HitLog::Current() const {
  std::lock_guard lock(mu_);
  Segment s = current_;
  s.fd = -1;
  return s;
}

void HitLog::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  written_.notify_all();
}

std::vector<HitLog::Segment> HitLog::Rotate(int64_t& closed_end, bool force) {
  std::unique_lock lock(mu_);
  const bool full = current_.size >= options_.segment_bytes ||
                    std::chrono::steady_clock::now() - current_since_ >= options_.segment_age;
  if (current_.size > 0 && (force || full)) {
    Segment old = current_;
    if (Status st = StartSegment(old.start + old.size); !st.ok()) {
      // Keep writing to the old one; the loader tries again at its next turn.
      spdlog::error("hit log: {}", st.error().message);
      current_ = old;
    } else {
      closed_.push_back(std::move(old));
    }
  }
  closed_end = current_.start;
  return {closed_.begin(), closed_.end()};
}

Status HitLog::Remove(const Segment& segment) {
  std::lock_guard sync(sync_mu_);  // the fsync thread is not using its fd
  int fd = -1;
  {
    std::lock_guard lock(mu_);
    if (closed_.empty() || closed_.front().start != segment.start)
      return Error::Internal("hit log: removing a segment that is not the oldest closed one");
    fd = closed_.front().fd;
    removed_end_ = segment.start + closed_.front().size;
    closed_.pop_front();
    dir_dirty_ = true;
  }
  if (fd >= 0) ::close(fd);
  if (::unlink(segment.path.c_str()) != 0 && errno != ENOENT)
    return Error::Unavailable("cannot delete the loaded hit log segment " + segment.path + ": " +
                              std::strerror(errno));
  return {};
}

int64_t HitLog::end() const {
  std::lock_guard lock(mu_);
  return current_.start + current_.size;
}

HitLog::Stats HitLog::stats() const {
  std::lock_guard lock(mu_);
  Stats s;
  s.hits = hits_;
  s.failed = failed_;
  s.segments = closed_.size() + 1;
  s.pending_bytes = current_.start + current_.size - removed_end_;
  return s;
}

void HitLog::SyncLoop() {
  std::vector<int> fds;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (stop_cv_.wait_for(lock, options_.fsync_interval, [&] { return stopping_; })) return;
    }
    std::lock_guard sync(sync_mu_);
    bool dir_dirty = false;
    {
      std::lock_guard lock(mu_);
      if (!dirty_ && !dir_dirty_) continue;
      fds.clear();
      for (const Segment& s : closed_)
        if (s.fd >= 0) fds.push_back(s.fd);
      fds.push_back(current_.fd);
      dirty_ = false;
      dir_dirty = dir_dirty_;
      dir_dirty_ = false;
    }
    // Closed segments are synced again here only while they live (a few ms); it costs little,
    // since fdatasync of a file with nothing unsynced returns at once.
    for (int fd : fds)
      if (::fdatasync(fd) != 0) spdlog::error("hit log: fdatasync failed: {}", std::strerror(errno));
    if (dir_dirty && ::fsync(dir_fd_) != 0)
      spdlog::error("hit log: fsync of the directory failed: {}", std::strerror(errno));
  }
}

}  // namespace rapport::http
