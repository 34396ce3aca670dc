#include "http/hit_batcher.h"

#include <spdlog/spdlog.h>

#include <map>
#include <utility>
#include <vector>

#include "core/thread_name.h"

namespace rapport::http {

struct HitBatcher::Pending {
  WorkspaceId ws = 0;
  NewEvent event;
  bool done = false;
  Result<AppendResult> result = Error::Internal("the hit was not committed");
  std::condition_variable cv;  // waits on the batcher's mutex
  Done done_fn;                // SubmitAsync: called instead of waking a waiter
};

HitBatcher::HitBatcher(EventStore& events, Clock& clock, HitBatcherOptions options)
    : events_(events), clock_(clock), options_(options) {
  writer_ = std::thread([this] {
    NameThisThread("hit-batcher");
    Run();
  });
}

HitBatcher::~HitBatcher() { Stop(); }

void HitBatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

HitBatcher::Stats HitBatcher::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.queued = queue_.size();
  return s;
}

bool HitBatcher::Enqueue(std::unique_lock<std::mutex>&, const std::shared_ptr<Pending>& p) {
  if (stopping_) {
    p->result = Error::Unavailable("the server is shutting down");
    return false;
  }
  if (queue_.size() + in_commit_ >= options_.max_queued) {
    ++stats_.refused;
    p->result = Error::Unavailable("too many tracking hits are waiting to be stored");
    return false;
  }
  queue_.push_back(p);
  if (queue_.size() == 1) wake_.notify_one();
  return true;
}

Result<AppendResult> HitBatcher::Submit(WorkspaceId ws, NewEvent event) {
  auto p = std::make_shared<Pending>();
  p->ws = ws;
  p->event = std::move(event);
  std::unique_lock lock(mu_);
  if (!Enqueue(lock, p)) return std::move(p->result);
  p->cv.wait(lock, [&] { return p->done; });
  return std::move(p->result);
}

void HitBatcher::SubmitAsync(WorkspaceId ws, NewEvent event, Done done) {
  auto p = std::make_shared<Pending>();
  p->ws = ws;
  p->event = std::move(event);
  p->done_fn = std::move(done);
  bool queued;
  {
    std::unique_lock lock(mu_);
    queued = Enqueue(lock, p);
  }
  if (!queued) p->done_fn(std::move(p->result));
}

void HitBatcher::Run() {
  std::vector<std::shared_ptr<Pending>> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is committed
      size_t n = std::min(queue_.size(), options_.max_batch);
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
      in_commit_ = n;
    }
    // One Append (one transaction) per workspace, in arrival order within it.
    std::map<WorkspaceId, std::vector<size_t>> by_ws;
    for (size_t i = 0; i < batch.size(); ++i) by_ws[batch[i]->ws].push_back(i);
    std::vector<Result<AppendResult>> results(batch.size(), Error::Internal("the hit was not committed"));
    for (auto& [ws, idx] : by_ws) {
      std::vector<NewEvent> events;
      events.reserve(idx.size());
      for (size_t i : idx) events.push_back(std::move(batch[i]->event));
      Result<std::vector<AppendResult>> appended = Error::Internal("not run");
      try {
        appended = events_.Append(ws, events, clock_.Now());
      } catch (const std::exception& e) {
        appended = Error::Internal(std::string("the hits' transaction threw: ") + e.what());
      }
      for (size_t k = 0; k < idx.size(); ++k) {
        if (!appended.ok())
          results[idx[k]] = appended.error();
        else if (k < appended->size())
          results[idx[k]] = (*appended)[k];
        else
          results[idx[k]] = Error::Internal("the hit's event was not appended");
      }
    }
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < batch.size(); ++i) {
        batch[i]->result = std::move(results[i]);
        batch[i]->done = true;
        if (!batch[i]->done_fn) batch[i]->cv.notify_one();
      }
      in_commit_ = 0;
      ++stats_.batches;
      stats_.hits += batch.size();
    }
    // The asynchronous callers' callbacks, outside the lock (they post the answers to I/O threads).
    for (auto& p : batch) {
      if (!p->done_fn) continue;
      try {
        p->done_fn(std::move(p->result));
      } catch (const std::exception& e) {
        spdlog::error("tracking hit callback threw: {}", e.what());
      }
    }
    batch.clear();
  }
}

}  // namespace rapport::http
